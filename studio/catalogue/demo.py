"""The demo show's catalogue: the lipstick on the demo's product card and the bag, with the FAQ a
shop's live-room assistant would keep (price, samples, shades, how to buy, shipping, returns...)."""

from __future__ import annotations

from pathlib import Path

from studio.catalogue.model import Catalogue, FaqEntry, Product
from studio.catalogue.persistence import save_catalogue

CATALOGUE_FILE = "demo-catalogue.json"
LIPSTICK = "lipstick-666"
BAG = "tote-bag"

_LIPSTICK_FAQ = (
    ("price", "口红多少钱？直播间价格、优惠", "直播间到手价129元（日常价199元），今天下单立减50元。"),
    ("sample", "有没有小样？赠品、试用装", "有的，下单就送同色号小样一支（1.2g），赠完即止。"),
    ("shade", "有哪些色号？颜色、色号推荐", "共4个色号：#666正红丝绒、#888豆沙、#520枫叶棕、#999复古红，礼盒里是#666。"),
    ("buy", "怎么买？链接、下单", "点屏幕下方的商品卡，或小黄车里的1号链接，选好色号直接下单。"),
    ("shipping", "什么时候发货？发什么快递？到货时间、包邮、运费", "48小时内发货，默认顺丰包邮，新疆西藏等偏远地区需补运费。"),
    ("returns", "可以退换货吗？退货、换货、七天无理由、运费险", "支持7天无理由退换（未拆封），送运费险；拆封后有质量问题也包退。"),
    ("ingredients", "成分是什么？孕妇能用吗？敏感、香味、香精、铅", "主要含乳木果油和维生素E，无香精、不含铅；孕期哺乳期请先咨询医生。"),
    ("size", "净含量多少克？规格、正装", "正装一支净含量3.5g，日常用大概能用半年。"),
    ("texture", "干皮涂会拔干吗？质地、滋润、唇纹、起皮、嘴唇干", "丝绒哑光质地，添加了保湿成分，不拔干；干皮建议先涂一层润唇膏。"),
    ("longevity", "持久吗？沾杯吗？掉色、持妆时间、吃饭喝水", "成膜后不易沾杯，正常持妆4-6小时，吃饭后建议补涂。"),
    ("skin_tone", "黄皮适合吗？显白吗？肤色、黑皮、白皮", "#666是偏蓝调正红，黄皮白皮都显白；黄黑皮更推荐#520枫叶棕。"),
    ("gift", "有礼盒包装吗？适合送人吗？送礼、礼物、手提袋、贺卡", "限量礼盒装，带手提袋和空白贺卡，可以备注留言帮你写好。"),
    ("shelf_life", "保质期多久？生产日期、过期", "保质期3年，都是今年的新货，开封后建议12个月内用完。"),
    ("authentic", "是正品吗？", "品牌官方授权店铺，支持专柜验货，假一赔三。"),
)

_BAG_FAQ = (
    ("price", "包包多少钱？", "直播间到手价299元（日常价459元），只限今晚。"),
    ("colour", "有哪些颜色？黑色、棕色、白色", "有黑色、焦糖棕、奶白三个颜色，黑色百搭不挑衣服。"),
    ("size", "包多大？尺寸、容量、能装A4和电脑吗？大号小号", "尺寸28×22×12厘米，能放A4文件、iPad和13寸笔记本，保温杯也放得下。"),
    ("material", "是什么材质？真皮吗？牛皮、皮质、PU", "外层是头层牛皮，内衬是棉麻布料，不是PU。"),
    ("weight", "包重不重？重量", "空包约0.6公斤，一斤多一点，日常背不累。"),
    ("strap", "能斜挎吗？有肩带吗？背带、单肩、手提、可拆卸", "配一条可拆卸、长度可调的肩带，手提、单肩、斜挎都可以。"),
    ("waterproof", "防水吗？下雨、淋雨、沾水", "表面做了防泼水处理，小雨没问题，但不建议泡水或长时间淋雨。"),
    ("care", "怎么保养？护理、清洁、清洗、掉色", "用干软布擦拭，脏了用皮具清洁剂，不要水洗，避免暴晒，不用时塞纸团放防尘袋里。"),
    ("shipping", "什么时候发货？", "72小时内发货，顺丰包邮，偏远地区需补运费。"),
    ("returns", "可以退换吗？", "支持7天无理由退换，吊牌未拆即可，我们送运费险。"),
    ("buy", "包包怎么买？", "点小黄车里的2号链接，选颜色下单就行。"),
    ("authentic", "是正品吗？", "品牌直营，每个包都有防伪吊牌，支持验货。"),
)


def demo_catalogue(images: dict[str, Path] | None = None) -> Catalogue:
    images = images or {}
    catalogue = Catalogue("演示商品 Demo products")
    catalogue.set_products([
        Product(LIPSTICK, "丝绒哑光口红 #666 限量礼盒", 129.0, 199.0, str(images.get("lipstick", "")), 300,
                "https://shop.example.com/item/lipstick-666",
                ("丝绒哑光，一抹显色", "含乳木果油，不拔干", "限量礼盒，送人有面子"),
                tuple(FaqEntry(*e) for e in _LIPSTICK_FAQ)),
        Product(BAG, "真皮通勤托特包 小号", 299.0, 459.0, str(images.get("bag", "")), 80,
                "https://shop.example.com/item/tote-bag",
                ("头层牛皮，越背越有光泽", "能装13寸电脑，通勤够用", "可拆卸肩带，三种背法"),
                tuple(FaqEntry(*e) for e in _BAG_FAQ)),
    ])
    return catalogue


def ensure_demo_catalogue(folder: Path, images: dict[str, Path], force: bool = False) -> Path:
    """Write the demo catalogue next to the demo assets when it is missing (or ``force``)."""
    path = Path(folder) / CATALOGUE_FILE
    if force or not path.exists():
        save_catalogue(demo_catalogue(images), path)
    return path
