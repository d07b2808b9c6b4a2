"""Shared end-to-end fixtures: Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from requirements_check import missing_tool

from studio.chromium import CHROMIUM, CHROMIUM_ARGS
from studio.net import NetLoop


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; tests that use it skip where it is not installed (fail
    under CI=true)."""
    if not os.path.exists(CHROMIUM):
        missing_tool(f"{CHROMIUM} is not installed (the Makefile installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def net() -> Iterator[NetLoop]:
    """A running ``net`` loop, stopped (and its leftovers cancelled) after the test."""
    loop = NetLoop()
    loop.start()
    yield loop
    loop.stop()
