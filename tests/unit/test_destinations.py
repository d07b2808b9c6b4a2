"""Destination model: schemes, presets, key-free display, JSON; the per-destination drop queue."""

from __future__ import annotations

from fractions import Fraction

import pytest

from encoders.packets import EncodedPacket
from studio.outputs.destinations import (
    PRESETS,
    Destination,
    DestinationKind,
    SrtOptions,
    kind_for_url,
    preset,
)
from studio.outputs.mux_destination import DropQueue, describe_error
from studio.outputs.sdp_check import missing_h264


def video(pts: int, key: bool = False) -> EncodedPacket:
    return EncodedPacket("video", b"\0\0\0\1\x65" if key else b"\0\0\0\1\x41", pts, Fraction(1, 90000), key)


def audio(pts: int) -> EncodedPacket:
    return EncodedPacket("audio", b"aac", pts, Fraction(1, 48000), True)


@pytest.mark.parametrize(("url", "kind"), [("https://x/whip", DestinationKind.WHIP), ("http://x/w", DestinationKind.WHIP),
                                           ("rtmp://x/app", DestinationKind.RTMP), ("RTMPS://x:443/app", DestinationKind.RTMP),
                                           ("srt://x:9000", DestinationKind.SRT)])
def test_the_scheme_picks_the_protocol(url: str, kind: DestinationKind) -> None:
    assert kind_for_url(url) == kind


@pytest.mark.parametrize("url", ["ftp://x/y", "x.example.com/live", "rtmp:///nohost"])
def test_unknown_scheme_or_missing_host_is_a_clear_error(url: str) -> None:
    with pytest.raises(ValueError, match="unknown scheme|no host"):
        Destination(url)


def test_display_url_never_shows_the_key_and_json_round_trips() -> None:
    d = Destination("rtmp://live.example.com/app/secret-stream-key", name="platform")
    assert "secret-stream-key" not in d.display_url and d.display_url.endswith("/app/***")
    assert Destination.from_json(d.to_json()) == d
    s = Destination("srt://h:9000?latency=250&streamid=a/b&passphrase=nope")
    assert s.srt == SrtOptions(250, "a/b") and "nope" not in s.display_url
    with pytest.raises(ValueError, match="needs a"):
        Destination("https://x/whip", kind=DestinationKind.RTMP)


def test_presets_cover_the_platforms_and_servers() -> None:
    names = {p.name for p in PRESETS}
    assert {"Bilibili", "Douyin", "Kuaishou", "Taobao Live", "YouTube", "Twitch"} <= names
    assert {"Cloudflare Stream", "LiveKit", "SRS", "MediaMTX", "Janus (simple-whip-server)", "Millicast"} <= names
    for p in PRESETS:
        assert kind_for_url(p.url.replace("<", "").replace(">", "")) == p.kind
    assert preset("YouTube").url.startswith("rtmps://")


def test_a_full_queue_drops_to_the_next_keyframe_and_counts_it() -> None:
    q = DropQueue(3)
    q.put(video(0))  # before the first keyframe: not counted (nothing was sending yet)
    q.put(video(1, key=True))
    q.put(audio(1))
    q.put(video(2))
    q.put(video(3))  # full: dropped, and video waits for a keyframe
    q.put(audio(4))  # audio is dropped only while full
    q.put(video(4))  # held back (needs a keyframe): counted
    assert q.dropped_video == 2 and q.dropped_audio == 1
    assert [q.get(0).pts for _ in range(3)] == [1, 1, 2]  # type: ignore[union-attr]
    q.put(video(5))  # still waiting for a keyframe
    q.put(video(6, key=True))
    assert q.dropped_video == 3 and q.get(0).pts == 6  # type: ignore[union-attr]
    q.discard(count_video=False)
    assert q.get(0) is None


def test_error_sentences_and_h264_check() -> None:
    assert "nothing listens" in describe_error(OSError(111, "Connection refused"))
    assert "refused stream key" in describe_error(OSError(5, "Input/output error"))
    assert missing_h264("v=0\r\nm=audio 9 X 111\r\na=rtpmap:111 opus/48000/2\r\n") is None
