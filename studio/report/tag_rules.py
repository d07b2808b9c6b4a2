"""Viewer tag rules: a small declarative JSON format that turns a viewer's facts into CRM tags.

A rule is ``{"tag": "...", "when": {condition: argument, ...}}``; every condition must hold. A tag
may name what matched: ``{product}`` (with ``clicked``), ``{option}`` and ``{poll}`` (with
``voted``) give one tag per match, e.g. ``clicked-{product}`` -> ``clicked-lipstick``.

Conditions:
- ``"voted": {"poll": GLOBS, "option": GLOBS, "won": true|false}``: a vote (every key optional;
  ``option`` matches the option's text or its number, ``poll`` the question or the poll id;
  ``won``: the option the branch then took)
- ``"clicked": GLOBS``: a product card clicked (the product's name or id)
- ``"watched": {"min": n, "max": n}``: drama segments watched; ``"segment": GLOBS`` one of them
- ``"stayed_into_live": true|false``: watched drama and was still there in a live segment
- ``"gifts": {"min_value": yuan, "min_count": n}``
- ``"danmaku"``, ``"likes"``, ``"sessions"``: ``{"min": n, "max": n}``
GLOBS is a text or a list of texts, matched case-insensitively, ``*`` and ``?`` as wildcards.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.storage import read_json, write_json_atomic

SCHEMA_VERSION = 1
KIND = "drama-live-studio/viewer-tag-rules"
PLACEHOLDERS = ("{product}", "{option}", "{poll}")
RANGE_CONDITIONS = ("danmaku", "likes", "sessions")
CONDITIONS = ("voted", "clicked", "watched", "stayed_into_live", "gifts", *RANGE_CONDITIONS)
MAX_RULES = 500

DEFAULT_RULES: list[dict[str, Any]] = [
    {"tag": "voted-buy", "when": {"voted": {"option": ["买", "买它", "买下", "buy", "buy it", "yes"]}}},
    {"tag": "voted-skip", "when": {"voted": {"option": ["不买", "不要", "skip", "don't buy", "no"]}}},
    {"tag": "voted-{option}", "when": {"voted": {}}},
    {"tag": "voted-with-the-winner", "when": {"voted": {"won": True}}},
    {"tag": "clicked-{product}", "when": {"clicked": "*"}},
    {"tag": "watched-drama", "when": {"watched": {"min": 1}}},
    {"tag": "binge-watcher", "when": {"watched": {"min": 3}}},
    {"tag": "stayed-into-live", "when": {"stayed_into_live": True}},
    {"tag": "left-before-live", "when": {"watched": {"min": 1}, "stayed_into_live": False}},
    {"tag": "gifter", "when": {"gifts": {"min_count": 1}}},
    {"tag": "big-gifter", "when": {"gifts": {"min_value": 100}}},
    {"tag": "chatty", "when": {"danmaku": {"min": 10}}},
    {"tag": "returning-viewer", "when": {"sessions": {"min": 2}}},
]


@dataclass(frozen=True)
class Rule:
    tag: str
    when: dict[str, Any]


def slug(text: str) -> str:
    """A tag's words: lower case, runs of spaces and punctuation as one hyphen (CJK kept)."""
    out = re.sub(r"[\s,;:/\\|\"'`]+", "-", text.strip().lower())
    return out.strip("-")[:60]


def globs(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError(f"{where}: expected a text or a list of texts")
    return tuple(i.lower() for i in items)


def matches(text: str, patterns: tuple[str, ...]) -> bool:
    t = text.lower()
    return any(fnmatch.fnmatchcase(t, p) for p in patterns)


def _range(value: Any, where: str, keys: tuple[str, ...] = ("min", "max")) -> dict[str, float]:
    if not isinstance(value, dict) or set(value) - set(keys):
        raise ValueError(f"{where}: expected an object with {' / '.join(keys)}")
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{where}.{k}: expected a number")
    return {k: float(v) for k, v in value.items()}


def check_rule(data: Any, where: str) -> Rule:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    tag, when = data.get("tag"), data.get("when")
    if not isinstance(tag, str) or not slug(tag.replace("{", "").replace("}", "")):
        raise ValueError(f"{where}: missing or empty tag")
    if not isinstance(when, dict) or not when:
        raise ValueError(f"{where}: 'when' must be an object with at least one condition")
    for key, arg in when.items():
        w = f"{where}.when.{key}"
        if key == "voted":
            if not isinstance(arg, dict) or set(arg) - {"poll", "option", "won"}:
                raise ValueError(f"{w}: expected an object with poll / option / won")
            for k in ("poll", "option"):
                if k in arg:
                    globs(arg[k], f"{w}.{k}")
            if "won" in arg and not isinstance(arg["won"], bool):
                raise ValueError(f"{w}.won: expected true or false")
        elif key == "clicked":
            globs(arg, w)
        elif key == "watched":
            if not isinstance(arg, dict):
                raise ValueError(f"{w}: expected an object")
            if "segment" in arg:
                globs(arg["segment"], f"{w}.segment")
            _range({k: v for k, v in arg.items() if k != "segment"}, w)
        elif key == "stayed_into_live":
            if not isinstance(arg, bool):
                raise ValueError(f"{w}: expected true or false")
        elif key == "gifts":
            _range(arg, w, ("min_value", "min_count"))
        elif key in RANGE_CONDITIONS:
            _range(arg, w)
        else:
            raise ValueError(f"{w}: unknown condition (use {', '.join(CONDITIONS)})")
    for name in re.findall(r"\{[^}]*\}", tag):
        if name not in PLACEHOLDERS:
            raise ValueError(f"{where}: unknown placeholder {name} in the tag (use {', '.join(PLACEHOLDERS)})")
    if "{product}" in tag and "clicked" not in when:
        raise ValueError(f"{where}: {{product}} needs a 'clicked' condition")
    if ("{option}" in tag or "{poll}" in tag) and "voted" not in when:
        raise ValueError(f"{where}: {{option}} and {{poll}} need a 'voted' condition")
    return Rule(tag, dict(when))


def rules_from_dict(data: Any) -> list[Rule]:
    if isinstance(data, list):  # a bare list of rules is fine too
        data = {"schema_version": SCHEMA_VERSION, "rules": data}
    if not isinstance(data, dict):
        raise ValueError("tag rules: expected a JSON object")
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("tag rules: bad schema_version")
    if version > SCHEMA_VERSION:
        raise ValueError(f"tag rules: schema_version {version} is newer than this studio understands")
    rules = data.get("rules")
    if not isinstance(rules, list):
        raise ValueError("tag rules: 'rules' must be a list")
    if len(rules) > MAX_RULES:
        raise ValueError(f"tag rules: at most {MAX_RULES} rules")
    return [check_rule(r, f"rule {i + 1}") for i, r in enumerate(rules)]


def rules_to_dict(rules: list[Rule]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "kind": KIND,
            "rules": [{"tag": r.tag, "when": r.when} for r in rules]}


def default_rules() -> list[Rule]:
    return rules_from_dict(DEFAULT_RULES)


def load_rules(path: Path | None) -> list[Rule]:
    """The rules in ``path`` (ValueError naming the file and the problem), or the default set."""
    if path is None:
        return default_rules()
    data = read_json(path)  # a damaged file's error already names it
    try:
        return rules_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def save_rules(rules: list[Rule], path: Path) -> None:
    write_json_atomic(path, rules_to_dict(rules), validate=rules_from_dict)
