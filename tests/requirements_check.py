"""Tools some tests need (Chromium, Xvfb, PyInstaller): missing here, a test skips and says why;
under ``CI=true`` (where `make test` installs them) it fails instead, so a broken setup cannot
pass as a run of skips."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing_tool(reason: str) -> NoReturn:
    """Skip (fail under CI=true) a test whose tool is not installed."""
    if in_ci():
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)
