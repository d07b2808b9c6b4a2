"""Find and register a CJK-capable font (and a colour emoji font) so Chinese renders on a fresh machine.

Search order, first hit wins for each role:

1. fonts bundled in ``resources/fonts/`` (``sys._MEIPASS/resources/fonts`` in a frozen build);
2. system fonts: Debian/Ubuntu ``fonts-noto-cjk``, WenQuanYi, Windows (Microsoft YaHei, SimHei),
   macOS (PingFang, Hiragino Sans GB, STHeiti);
3. whatever CJK family fontconfig / the OS already offers to Qt.

File discovery is plain Python (``find_font_files``, usable by ``studio doctor`` without Qt); the
registration with ``QFontDatabase`` goes through ``scenes.text_raster``, the one module of ``scenes``
that touches Qt.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

# Family names known to cover Simplified Chinese, in order of preference.
CJK_FAMILY_PREFERENCE = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
)
EMOJI_FAMILY_PREFERENCE = ("Noto Color Emoji", "Segoe UI Emoji", "Apple Color Emoji")

# A few characters every Chinese font must have: "你好直播" (hello, live stream).
CJK_PROBE = "你好直播"
EMOJI_PROBE = "\U0001f600"


def bundled_font_dir() -> Path:
    """``resources/fonts`` next to the packages, or inside the PyInstaller bundle when frozen."""
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        return Path(meipass) / "resources" / "fonts"
    return Path(__file__).resolve().parents[1] / "resources" / "fonts"


def _windows_font_dir() -> Path:
    return Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


def system_cjk_candidates() -> list[Path]:
    """System CJK font files in search order (those that exist are used)."""
    win = _windows_font_dir()
    noto = Path("/usr/share/fonts/opentype/noto")
    out: list[Path] = []
    # Debian fonts-noto-cjk: Regular first so the default weight comes from it.
    out += [noto / "NotoSansCJK-Regular.ttc", noto / "NotoSansCJK-Bold.ttc"]
    out += sorted(p for p in _glob(noto, "NotoSansCJK-*.ttc") if p not in out)
    out += [
        Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora / Arch
        Path("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
        Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
        Path("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc"),
        win / "msyh.ttc",
        win / "msyhbd.ttc",
        win / "simhei.ttf",
        Path("/System/Library/Fonts/PingFang.ttc"),
        Path("/System/Library/Fonts/Hiragino Sans GB.ttc"),
        Path("/System/Library/Fonts/STHeiti Medium.ttc"),
    ]
    return out


def system_emoji_candidates() -> list[Path]:
    return [
        Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
        Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
        Path("/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf"),
        _windows_font_dir() / "seguiemj.ttf",
        Path("/System/Library/Fonts/Apple Color Emoji.ttc"),
    ]


def _glob(folder: Path, pattern: str) -> list[Path]:
    try:
        return list(folder.glob(pattern))
    except OSError:
        return []


def _existing(paths: Iterable[Path]) -> list[Path]:
    seen: set[Path] = set()
    out: list[Path] = []
    for p in paths:
        try:
            ok = p.is_file()
        except OSError:
            ok = False
        if ok and p not in seen:
            seen.add(p)
            out.append(p)
    return out


@dataclass(frozen=True)
class FontFiles:
    """Font files found on disk, before Qt has seen them."""

    bundled: tuple[Path, ...]
    system_cjk: tuple[Path, ...]
    system_emoji: tuple[Path, ...]


def find_font_files(
    bundled_dir: Path | None = None,
    cjk_candidates: Sequence[Path] | None = None,
    emoji_candidates: Sequence[Path] | None = None,
) -> FontFiles:
    """Existing font files for each role; arguments override the default locations (for tests)."""
    folder = bundled_font_dir() if bundled_dir is None else bundled_dir
    bundled = sorted(p for p in _glob(folder, "*") if p.suffix.lower() in FONT_SUFFIXES)
    return FontFiles(
        bundled=tuple(_existing(bundled)),
        system_cjk=tuple(_existing(system_cjk_candidates() if cjk_candidates is None else cjk_candidates)),
        system_emoji=tuple(
            _existing(system_emoji_candidates() if emoji_candidates is None else emoji_candidates)
        ),
    )


@dataclass(frozen=True)
class FontInfo:
    """What ``ensure_fonts`` settled on."""

    cjk_family: str  # family to render Chinese with ("" when none was found)
    emoji_family: str  # colour emoji family ("" when none)
    files: tuple[Path, ...]  # font files registered with Qt
    registered_families: tuple[str, ...]  # every family those files added
    has_cjk: bool  # cjk_family really has glyphs for CJK_PROBE
    has_emoji: bool
    problems: tuple[str, ...] = ()  # files that failed to load, missing coverage

    @property
    def fallback_families(self) -> tuple[str, ...]:
        """Family list to put after a chosen family: CJK first, then colour emoji."""
        return tuple(f for f in (self.cjk_family, self.emoji_family) if f)


def _pick(preference: Sequence[str], available: Sequence[str]) -> str:
    avail = set(available)
    for name in preference:
        if name in avail:
            return name
    return ""


_lock = threading.Lock()
_info: FontInfo | None = None


def ensure_fonts(files: FontFiles | None = None) -> FontInfo:
    """Register the fonts with Qt once and report what was chosen (idempotent, thread-safe).

    Needs the ``QGuiApplication`` (``scenes.text_raster.ensure_gui_app``); when none exists it is
    created here, which is only allowed on the main thread.
    """
    global _info
    with _lock:
        if _info is None:
            _info = _register(find_font_files() if files is None else files)
        return _info


def _register(files: FontFiles) -> FontInfo:
    # Lazy import: text_raster imports this module, and fonts discovery must work without Qt.
    from scenes import text_raster

    text_raster.ensure_gui_app()
    problems: list[str] = []
    loaded: list[Path] = []
    families: list[str] = []

    def load(paths: Iterable[Path]) -> list[str]:
        got: list[str] = []
        for path in paths:
            fams = text_raster.register_font_file(path)
            if not fams:
                problems.append(f"{path}: Qt could not load this font file")
                continue
            loaded.append(path)
            got += [f for f in fams if f not in got]
            families.extend(f for f in fams if f not in families)
        return got

    bundled = load(files.bundled)
    cjk = _first_covering(text_raster, bundled)
    if not cjk:
        system = load(_with_bold_sibling(files.system_cjk))
        cjk = _first_covering(text_raster, system)
    if not cjk:
        # Last resort: a CJK family the OS font system (fontconfig, DirectWrite, CoreText) already knows.
        cjk = _first_covering(text_raster, text_raster.installed_families())
    emoji = _pick(EMOJI_FAMILY_PREFERENCE, bundled)
    if not emoji:
        emoji = _pick(EMOJI_FAMILY_PREFERENCE, load(files.system_emoji[:1]))
    if not emoji:
        emoji = _pick(EMOJI_FAMILY_PREFERENCE, text_raster.installed_families())
    has_cjk = bool(cjk) and text_raster.family_covers(cjk, CJK_PROBE)
    has_emoji = bool(emoji) and text_raster.family_covers(emoji, EMOJI_PROBE)
    if not has_cjk:
        problems.append(
            "no font with Chinese glyphs found: install fonts-noto-cjk or put a CJK font in resources/fonts"
        )
    if not has_emoji:
        problems.append("no colour emoji font found: install fonts-noto-color-emoji")
    return FontInfo(
        cjk_family=cjk,
        emoji_family=emoji,
        files=tuple(loaded),
        registered_families=tuple(families),
        has_cjk=has_cjk,
        has_emoji=has_emoji,
        problems=tuple(problems),
    )


def _with_bold_sibling(paths: Sequence[Path]) -> list[Path]:
    """The first system font plus its Bold file from the same family (NotoSansCJK-Regular/-Bold)."""
    if not paths:
        return []
    first = paths[0]
    stem = first.name.split("-")[0]
    bold = [p for p in paths[1:] if p.parent == first.parent and p.name.startswith(stem + "-Bold")]
    return [first, *bold[:1]]


def _first_covering(raster: Any, families: Sequence[str]) -> str:
    ordered = [f for f in CJK_FAMILY_PREFERENCE if f in families] + [
        f for f in families if f not in CJK_FAMILY_PREFERENCE and "Mono" not in f
    ]
    for fam in ordered:
        if raster.family_covers(fam, CJK_PROBE):
            return str(fam)
    return ""


def cjk_font_report() -> dict[str, Any]:
    """A JSON-friendly summary for ``studio doctor``."""
    files = find_font_files()
    report: dict[str, Any] = {
        "bundled_dir": str(bundled_font_dir()),
        "bundled_files": [str(p) for p in files.bundled],
        "system_cjk_files": [str(p) for p in files.system_cjk],
        "system_emoji_files": [str(p) for p in files.system_emoji],
    }
    try:
        info = ensure_fonts()
    except RuntimeError as exc:  # e.g. asked from a worker thread before the GUI app exists
        report.update(ok=False, problems=[str(exc)])
        return report
    report.update(
        ok=info.has_cjk,
        cjk_family=info.cjk_family,
        emoji_family=info.emoji_family,
        has_cjk=info.has_cjk,
        has_emoji=info.has_emoji,
        registered_files=[str(p) for p in info.files],
        problems=list(info.problems),
    )
    return report
