"""Debian's Chromium, as the benchmarks and the browser tests drive it (headless, no downloads).

Without the background-networking switches Chromium keeps dialling Google's hosts, which this
machine's closed network refuses; as root it needs --no-sandbox.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
)
