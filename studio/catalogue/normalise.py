"""Text normalisation for product questions: what viewers type in 弹幕 folded to one form.

- NFKC + casefold (studio.interaction.textnorm): full-width ``ＡＢ１？`` -> ``ab1?``.
- Traditional -> simplified for the characters shop questions use (a small table, not OpenCC:
  a full converter would be a dependency for a few hundred characters).
- Emoji, symbols and punctuation are dropped; runs of a repeated character (``吗吗吗``) shrink.
- Phrase synonyms (``多少钱``, ``几块``, ``啥价``, ``price`` -> ``价格``) and common typos
  (``多少前``, ``肿么``) are rewritten to one canonical word before tokenising, on the questions
  and on the catalogue alike, so BM25 sees one term where viewers write many.
"""

from __future__ import annotations

import re
import unicodedata

from studio.interaction.textnorm import fold

_TRAD = "現認識錢沒樣號顏買運費貨嗎麼價質長幾個這還會發們說話時問題裝試贈紅換讓聲對條黃張開關點兩網單實寶東車鏈結碼種級帶邊過進遠門間顯風黑廠產產處從陸鋼寬優惠與為當來後麗體適膚濕潤膠囊紙盒禮禱標簽驗證護養潔洗淨層滿應該嗎哪裡裏愛歡謝讚購訂單郵遞寄區隻場斤鐘賣膚臉脣誰啥麼並歲將專櫃遲閃乾"
_SIMP = "现认识钱没样号颜买运费货吗么价质长几个这还会发们说话时问题装试赠红换让声对条黄张开关点两网单实宝东车链结码种级带边过进远门间显风黑厂产产处从陆钢宽优惠与为当来后丽体适肤湿润胶囊纸盒礼祷标签验证护养洁洗净层满应该吗哪里里爱欢谢赞购订单邮递寄区只场斤钟卖肤脸唇谁啥么并岁将专柜迟闪干"
_T2S = str.maketrans(_TRAD, _SIMP)

# canonical word <- the ways viewers write it (longest first at match time). General live-commerce
# vocabulary, the same for every catalogue.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "价格": ("什么价格", "啥价格", "多少钱", "多少米", "多少前", "多钱", "几块钱", "几块", "几元", "啥价", "什么价", "价钱", "价位",
             "售价", "到手价", "原价", "price", "贵不贵", "贵吗", "贵", "便宜", "优惠", "折扣", "打折", "几折"),
    "小样": ("试用装", "试用", "sample", "赠品", "送什么"),
    "色号": ("颜色", "color", "colour", "几号色", "什么色", "啥色"),
    "购买": ("怎么买", "怎么下单", "怎么拍", "在哪买", "哪里买", "下单", "链接",
             "link", "小黄车", "上车", "购物车"),
    "发货": ("快递", "物流", "顺丰", "几天到", "多久到", "寄"),
    "运费": ("包邮", "邮费"),
    "退货": ("退换", "换货", "退款", "能退", "可以退", "无理由", "运费险", "退"),
    "库存": ("有货", "现货", "还有吗", "还剩", "卖完", "补货", "抢不到", "没货", "断货"),
    "正品": ("保真", "假货", "假的", "专柜", "官方", "验货"),
    "净含量": ("多少克", "几克", "多少g", "几g", "克数", "容量"),
    "成分": ("成份", "配方"),
    "尺寸": ("多大", "大小", "尺码"),
    "重量": ("多重", "重不重", "几斤", "多少斤"),
}
# typing variants rewritten before the synonyms (咋买 -> 怎么买 -> 购买)
TYPOS: dict[str, str] = {"肿么": "怎么", "咋": "怎么", "怎样": "怎么", "如何": "怎么", "木有": "没有", "神马": "什么"}
_TYPO_RE = re.compile("|".join(re.escape(k) for k in sorted(TYPOS, key=len, reverse=True)))
# each canonical word is also a phrase of its own, so "什么价格" is not cut into "什么价" + "格"
# words that say nothing about which FAQ entry a message asks for (particles, pronouns, forms of
# address, question words); dropped after tokenising
_STOP_TEXT = (
    "吗 嘛 呢 啊 呀 吧 哦 哈 嘿 的 地 得 了 么 是 不 有 没 没有 有没有 有木有 主播 宝 宝宝 宝贝 姐妹 姐妹们 家人们 亲 "
    "这 那 这个 那个 这款 那款 这是 一下 一个 一支 我 你 他 她 我们 你们 能 能不能 可以 可不 会 会不会 要 想 "
    "什么 啥 怎么 多少 多久 几 几个 哪 哪里 哪个 在 和 跟 也 都 就 还 还有 再 吗宝 请问 问 问一下 求 麻烦 急 现在 今天 好 时候 什么时候 一点 有点 吗亲 下 呗 嗯 诶 哎 咋"
)
STOPWORDS = frozenset(_STOP_TEXT.split())

_PHRASES = sorted({(v, k) for k, vs in SYNONYMS.items() for v in (k, *vs)}, key=lambda p: (-len(p[0]), p[0]))
_PHRASE_RE = re.compile("|".join(re.escape(v) for v, _ in _PHRASES))
_PHRASE_TO = dict(_PHRASES)
_REPEAT = re.compile(r"(.)\1{2,}")


def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or ch == "#"  # letters (CJK included) and digits; '#' starts a shade number


def normalise(text: str) -> str:
    """Folded, simplified, symbol-free text (spaces where symbols were)."""
    folded = fold(text).translate(_T2S)
    cleaned = "".join(ch if _keep(ch) else " " for ch in folded)
    return _REPEAT.sub(r"\1", " ".join(cleaned.split()))


_CANONICAL_RE = re.compile("(" + "|".join(re.escape(k) for k in sorted(SYNONYMS, key=len, reverse=True)) + ")")


def canonicalise(text: str) -> str:
    """``normalise`` plus synonym phrases rewritten to their canonical word (space-separated so the
    tokeniser keeps the canonical word whole). Canonical words already in the text are kept whole
    first: 什么色号 is 什么 + 色号, not the phrase 什么色 + 号."""
    text = _TYPO_RE.sub(lambda m: TYPOS[m.group(0)], normalise(text))
    pieces = _CANONICAL_RE.split(text)
    out = [f" {p} " if i % 2 else _PHRASE_RE.sub(lambda m: f" {_PHRASE_TO[m.group(0)]} ", p)
           for i, p in enumerate(pieces)]
    return "".join(out)
