"""Wire protocol: strict parsing, caps, error codes, and the message <-> JSON round trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.interaction.messages import Announcement, Danmaku, Gift, Like, PollState, ProductClick, Vote
from studio.interaction.protocol import (
    ERROR_CODES,
    Limits,
    ProtocolError,
    build_viewer_message,
    decode_frame,
    encode,
    message_from_wire,
    message_to_wire,
    parse_host_frame,
    parse_viewer_frame,
)


def viewer(obj: dict) -> object:
    return parse_viewer_frame(decode_frame(json.dumps(obj)))


def code_of(obj: object, **kw: object) -> str:
    raw = obj if isinstance(obj, str | bytes) else json.dumps(obj)
    with pytest.raises(ProtocolError) as info:
        parse_viewer_frame(decode_frame(raw, **kw))  # type: ignore[arg-type]
    assert info.value.code in ERROR_CODES
    return info.value.code


def test_danmaku_frame_defaults_and_message() -> None:
    frame = viewer({"type": "danmaku", "text": "好看！", "ref": "r1", "ts": 12.5})
    msg = build_viewer_message(frame, user="v1", nick="小明")  # type: ignore[arg-type]
    assert isinstance(msg, Danmaku)
    assert (msg.text, msg.colour, msg.mode, msg.user, msg.nick, msg.sent_at) == ("好看！", "#FFFFFF", "scroll", "v1", "小明", 12.5)
    assert msg.id and msg.received_at > 0


def test_each_viewer_type_parses() -> None:
    frames = {
        "like": ({"type": "like", "count": 3}, Like),
        "vote": ({"type": "vote", "poll": "p1", "option": 2}, Vote),
        "product_click": ({"type": "product_click", "product": "sku-9"}, ProductClick),
    }
    for obj, cls in frames.values():
        msg = build_viewer_message(viewer(obj), user="v1")  # type: ignore[arg-type]
        assert isinstance(msg, cls)
    colour = viewer({"type": "danmaku", "text": "x", "colour": "#ff00aa", "mode": "top"})
    assert colour.fields == {"text": "x", "colour": "#FF00AA", "mode": "top"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        ({"type": "nope"}, "unknown_type"),
        ({"type": "announcement", "text": "hi"}, "forbidden"),
        ({"type": "gift", "name": "rose"}, "forbidden"),
        ({"type": "enter"}, "forbidden"),
        ({"type": "danmaku"}, "bad_field"),
        ({"type": "danmaku", "text": ""}, "bad_field"),
        ({"type": "danmaku", "text": "   "}, "bad_field"),
        ({"type": "danmaku", "text": 5}, "bad_field"),
        ({"type": "danmaku", "text": "x" * 101}, "too_long"),
        ({"type": "danmaku", "text": "a\x00b"}, "bad_field"),
        ({"type": "danmaku", "text": "\u202eevil"}, "bad_field"),
        ({"type": "danmaku", "text": "x", "colour": "red"}, "bad_field"),
        ({"type": "danmaku", "text": "x", "colour": "#12345"}, "bad_field"),
        ({"type": "danmaku", "text": "x", "mode": "sideways"}, "bad_field"),
        ({"type": "danmaku", "text": "x", "user": "admin"}, "bad_field"),
        ({"type": "like", "count": True}, "bad_field"),
        ({"type": "like", "count": 1.0}, "bad_field"),
        ({"type": "like", "count": 0}, "bad_field"),
        ({"type": "like", "count": 10**30}, "bad_field"),
        ({"type": "vote", "poll": "p", "option": 5}, "bad_field"),
        ({"type": "vote", "poll": "p"}, "bad_field"),
        ({"type": "danmaku", "text": "x", "ts": "now"}, "bad_field"),
        ({"type": "ping", "ref": "x" * 65}, "too_long"),
        ({"type": 7}, "bad_frame"),
        ({"text": "no type"}, "bad_frame"),
        ([1, 2], "bad_frame"),
    ],
)
def test_bad_viewer_frames(obj: object, code: str) -> None:
    assert code_of(obj) == code


def test_decode_rejects_non_json_binary_constants_and_big_frames() -> None:
    assert code_of("{not json") == "bad_json"
    assert code_of('{"type":"like","count":NaN}') == "bad_json"
    assert code_of('{"type":"danmaku","text":"x","ts":1e400}') == "bad_field"  # inf
    assert code_of(b'{"type":"like"}') == "bad_frame"
    assert code_of("[" * 5000 + "]" * 5000, limits=Limits(frame_max=20000)) == "bad_json"  # deep nesting
    assert code_of(json.dumps({"type": "danmaku", "text": "x", "pad": "y" * 5000})) == "too_large"
    # the cap counts UTF-8 bytes, not characters
    assert code_of(json.dumps({"type": "danmaku", "text": "好" * 1400}, ensure_ascii=False)) == "too_large"
    assert code_of(b"\xff\xfe", allow_binary=True) == "invalid_utf8"


def test_lone_surrogate_is_rejected_not_crashing_later() -> None:
    assert code_of('{"type":"danmaku","text":"\\ud800"}') == "bad_field"


def test_host_frames() -> None:
    ann = parse_host_frame(decode_frame('{"type":"announcement","text":"下单有礼"}'))
    assert isinstance(ann, Announcement) and ann.text == "下单有礼"
    state = parse_host_frame(
        decode_frame(
            json.dumps(
                {"type": "poll_state", "poll": "p1", "question": "Q?", "options": ["A", "B"], "counts": [1, 2],
                 "remaining": 9.5, "state": "open", "winner": None}
            )
        )
    )
    assert isinstance(state, PollState) and state.counts == (1, 2)
    for bad in (
        {"type": "poll_state", "poll": "p", "question": "Q", "options": ["A"], "counts": [1]},
        {"type": "poll_state", "poll": "p", "question": "Q", "options": ["A", "B"], "counts": [1]},
        {"type": "poll_state", "poll": "p", "question": "Q", "options": ["A", "B"], "counts": [1, -1]},
        {"type": "poll_state", "poll": "p", "question": "Q", "options": ["A", "B"], "counts": [1, 1], "winner": 2},
        {"type": "danmaku", "text": "host may not"},
    ):
        with pytest.raises(ProtocolError):
            parse_host_frame(decode_frame(json.dumps(bad)))


texts = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30).filter(
    lambda s: s.strip() and not any("\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069" for c in s)
)
messages = st.one_of(
    st.builds(Danmaku, user=texts, text=texts, mode=st.sampled_from(["scroll", "top", "bottom"])),
    st.builds(Like, user=texts, count=st.integers(1, 100)),
    st.builds(Gift, user=texts, name=texts, count=st.integers(1, 9999), value=st.floats(0, 1e6)),
    st.builds(Vote, user=texts, poll=texts, option=st.integers(0, 4)),
    st.builds(ProductClick, user=texts, product=texts, sent_at=st.none() | st.floats(-1e9, 1e9)),
    st.builds(Announcement, text=texts),
)


@given(messages)
def test_wire_round_trip(message: object) -> None:
    wire = encode(message_to_wire(message))  # type: ignore[arg-type]
    assert message_from_wire(decode_frame(wire)) == message


def test_message_from_wire_needs_user_and_rejects_extras() -> None:
    with pytest.raises(ProtocolError):
        message_from_wire({"type": "danmaku", "text": "x"})
    with pytest.raises(ProtocolError):
        message_from_wire({"type": "danmaku", "text": "x", "user": "u", "admin": True})
    with pytest.raises(ValueError, match="frame_max"):
        Limits(frame_max=0)
