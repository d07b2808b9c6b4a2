"""The report's language without Qt: the same catalog the window uses (resources/i18n/<lang>.json)."""

from __future__ import annotations

import json
from collections.abc import Callable

from studio.paths import resources_dir

LANGUAGES = ("en", "zh_CN")


def translator_for(language: str) -> Callable[[str], str]:
    if language not in LANGUAGES:
        raise ValueError(f"report language {language!r} is not one of {', '.join(LANGUAGES)}")
    if language == "en":
        return lambda text: text
    catalog = json.loads((resources_dir() / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    return lambda text: catalog.get(text, text)
