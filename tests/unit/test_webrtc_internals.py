"""aiortc/aioice internals that studio.webrtc patches are checked at import against the pins."""

from __future__ import annotations

import re
from pathlib import Path

import aioice
import aiortc
import pytest

from studio.webrtc import internals
from studio.webrtc.internals import AiortcInternalsChanged, Patched

ROOT = Path(__file__).resolve().parents[2]


def test_every_patched_internal_exists_in_the_installed_versions() -> None:
    internals.check()  # what importing any studio.webrtc module that patches does


def test_the_installed_versions_are_the_pinned_ones() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    for package, version in internals.TESTED.items():
        assert f'"{package}=={version}"' in pyproject
    assert aiortc.__version__ == internals.TESTED["aiortc"]
    assert aioice.__version__ == internals.TESTED["aioice"]


@pytest.mark.parametrize(
    "item",
    [
        Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", "_RTCRtpSender__renamed_history", True, "rtp_history"),
        Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", "_retransmit_renamed", used_by="rtp_history"),
        Patched("aioice", "aioice.ice", "", "get_host_addresses_v2", used_by="loopback"),
        Patched("aiortc", "aiortc.no_such_module", "", "x", used_by="pacer"),
    ],
)
def test_a_missing_internal_is_named_with_the_pinned_version(item: Patched) -> None:
    with pytest.raises(AiortcInternalsChanged) as raised:
        internals.check((*internals.PATCHED, item))
    message = str(raised.value)
    assert item.attribute in message
    assert f"{item.package}=={internals.TESTED[item.package]}" in message
    assert f"studio.webrtc.{item.used_by}" in message
    assert len(re.findall("is missing", message)) == 1  # only the broken one is listed


def test_a_renamed_private_attribute_is_caught_on_the_class_init(monkeypatch: pytest.MonkeyPatch) -> None:
    import aiortc.rtcrtpsender as rtcrtpsender

    class Renamed(rtcrtpsender.RTCRtpSender):
        def __init__(self) -> None:  # a future version that keeps its history elsewhere
            self._history: dict[int, object] = {}

    monkeypatch.setattr(rtcrtpsender, "RTCRtpSender", Renamed)
    with pytest.raises(AiortcInternalsChanged, match="_RTCRtpSender__rtp_history"):
        internals.check()
