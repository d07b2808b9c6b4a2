"""WHIP HTTP rules: Link ice-servers, Retry-After, Location resolution, origins, errors, config."""

from __future__ import annotations

import email.utils
from fractions import Fraction

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from encoders.packets import StreamInfo
from studio.outputs.whip import WhipConfig
from studio.outputs.whip_http import (
    Response,
    error_for,
    parse_ice_servers,
    parse_retry_after,
    redact_url,
    resolve_location,
    same_origin,
    supports_trickle,
    trickle_sdpfrag,
)

VIDEO = StreamInfo(kind="video", codec="h264", time_base=Fraction(1, 90000), profile_level_id="42e028")


def _response(status: int, text: str = "", **headers: str) -> Response:
    return Response(status, "https://whip.example/ingest/abc", CIMultiDictProxy(CIMultiDict(headers)), text)


def test_link_ice_servers_are_parsed_with_credentials() -> None:
    headers = [
        '<stun:stun.example.net>; rel="ice-server"',
        '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; '
        'credential="my,Password"; credential-type="password", <https://example.net/doc>; rel="help"',
        "<turns:turn.example.net:443?transport=tcp>; rel=ice-server; username=u2; credential=p2",
    ]
    servers = parse_ice_servers(headers)
    assert [s.urls for s in servers] == [
        "stun:stun.example.net",
        "turn:turn.example.net?transport=udp",
        "turns:turn.example.net:443?transport=tcp",
    ]
    assert servers[0].username is None and servers[0].credential is None
    assert (servers[1].username, servers[1].credential) == ("user", "my,Password")
    assert (servers[2].username, servers[2].credential) == ("u2", "p2")


def test_links_that_are_not_ice_servers_are_ignored() -> None:
    assert parse_ice_servers(['<https://x>; rel="help"', "garbage", '<ftp:x>; rel="ice-server"']) == []


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)


def test_relative_location_resolves_against_the_answering_url() -> None:
    assert resolve_location("https://a.example/whip/live", "/resource/1") == "https://a.example/resource/1"
    assert resolve_location("https://a.example/whip/live", "res/2") == "https://a.example/whip/res/2"
    assert resolve_location("https://a.example/whip", "https://b.example/r") == "https://b.example/r"


def test_origins_compare_scheme_host_and_default_port() -> None:
    assert same_origin("https://a.example/x", "https://A.example:443/y")
    assert not same_origin("https://a.example/x", "http://a.example/x")
    assert not same_origin("http://127.0.0.1:8000/x", "http://localhost:8000/x")
    assert not same_origin("http://a.example:8000/", "http://a.example:8001/")


def test_redact_url_drops_query_and_user_info() -> None:
    assert redact_url("https://user:pw@a.example:8443/whip?key=secret") == "https://a.example:8443/whip"


def test_errors_are_classified_with_human_messages() -> None:
    refused = error_for("POST", _response(401))
    assert not refused.retryable and "token" in str(refused)
    assert not error_for("POST", _response(404)).retryable
    busy = error_for("POST", _response(503, "maintenance", **{"Retry-After": "12"}))
    assert busy.retryable and busy.retry_after == 12.0 and "busy" in str(busy) and "maintenance" in str(busy)
    assert error_for("POST", _response(500)).retryable
    assert not error_for("POST", _response(302)).retryable
    assert not error_for("POST", _response(400)).retryable


def test_trickle_support_and_sdpfrag() -> None:
    headers = CIMultiDictProxy(CIMultiDict({"Accept-Patch": "application/trickle-ice-sdpfrag"}))
    assert supports_trickle(headers)
    assert not supports_trickle(CIMultiDictProxy(CIMultiDict()))
    sdp = "\r\n".join(
        [
            "v=0",
            "a=group:BUNDLE 0 1",
            "m=video 9 UDP/TLS/RTP/SAVPF 97",
            "a=mid:0",
            "a=ice-ufrag:abcd",
            "a=ice-pwd:0123456789012345678901",
            "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
            "m=audio 9 UDP/TLS/RTP/SAVPF 96",
            "a=mid:1",
            "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
        ]
    )
    frag = trickle_sdpfrag(sdp).splitlines()
    assert frag == [
        "a=group:BUNDLE 0 1",
        "m=video 9 UDP/TLS/RTP/SAVPF 97",
        "a=mid:0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:0123456789012345678901",
        "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host",
        "a=end-of-candidates",
    ]


def test_config_validates_and_hides_the_token() -> None:
    config = WhipConfig(url="https://whip.example/live", token="s3cret-token", video=VIDEO)
    assert "s3cret" not in repr(config)
    assert config.bearer() == "s3cret-token"
    with pytest.raises(ValueError, match="url"):
        WhipConfig(url="ftp://x", video=VIDEO)
    with pytest.raises(ValueError, match="min_bitrate_bps"):
        WhipConfig(url="https://x/", video=VIDEO, min_bitrate_bps=5, max_bitrate_bps=1)
    with pytest.raises(ValueError, match="at least one"):
        WhipConfig(url="https://x/")
    bad = StreamInfo(kind="video", codec="h264", time_base=Fraction(1, 90000), profile_level_id="zz")
    with pytest.raises(ValueError, match="profile_level_id"):
        WhipConfig(url="https://x/", video=bad)
