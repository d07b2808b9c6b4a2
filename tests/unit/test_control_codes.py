"""obs-websocket v5 basics of the remote control: codes as documented, auth, message decoding,
sessions' Identify checks, the rate limit, the stored password and the headless flags."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import msgpack
import pytest

from studio.control.auth import Challenge, auth_response, generate_password
from studio.control.protocol import (
    SUBPROTOCOL_JSON,
    SUBPROTOCOL_MSGPACK,
    CloseCode,
    Codec,
    EventSubscription,
    OpCode,
    OutputState,
    ProtocolError,
    RequestStatus,
    choose_subprotocol,
    request_status,
    split_message,
)
from studio.control.session import RateLimit, Session, TokenBucket


def test_codes_are_the_documented_numbers() -> None:
    assert [int(o) for o in OpCode] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert (CloseCode.MESSAGE_DECODE_ERROR, CloseCode.NOT_IDENTIFIED, CloseCode.ALREADY_IDENTIFIED,
            CloseCode.AUTHENTICATION_FAILED, CloseCode.UNSUPPORTED_RPC_VERSION) == (4002, 4007, 4008, 4009, 4010)
    assert (RequestStatus.SUCCESS, RequestStatus.UNKNOWN_REQUEST_TYPE, RequestStatus.MISSING_REQUEST_FIELD,
            RequestStatus.INVALID_REQUEST_FIELD_TYPE, RequestStatus.OUTPUT_RUNNING, RequestStatus.OUTPUT_NOT_RUNNING,
            RequestStatus.STUDIO_MODE_ACTIVE, RequestStatus.STUDIO_MODE_NOT_ACTIVE, RequestStatus.RESOURCE_NOT_FOUND,
            RequestStatus.REQUEST_PROCESSING_FAILED) == (100, 204, 300, 401, 500, 501, 505, 506, 600, 702)
    assert int(EventSubscription.ALL) == (1 << 12) - 1  # General .. Canvases, no high-volume bits
    assert int(EventSubscription.INPUT_VOLUME_METERS) == 1 << 16
    assert not EventSubscription.ALL & EventSubscription.INPUT_VOLUME_METERS
    assert OutputState.RECONNECTING == "OBS_WEBSOCKET_OUTPUT_RECONNECTING"
    assert request_status(RequestStatus.SUCCESS) == {"result": True, "code": 100}
    assert request_status(RequestStatus.RESOURCE_NOT_FOUND, "no") == {"result": False, "code": 600, "comment": "no"}


def test_auth_response_is_the_documented_double_sha256() -> None:
    password, salt, challenge = "supersecretpassword", "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI=", "+IxH4CnCiqpX1rM9"
    secret = base64.b64encode(hashlib.sha256((password + salt).encode()).digest())
    expected = base64.b64encode(hashlib.sha256(secret + challenge.encode()).digest()).decode()
    assert auth_response(password, salt, challenge) == expected


def test_challenge_verifies_only_the_right_answer() -> None:
    first, second = Challenge.new("salt"), Challenge.new("salt")
    assert first.challenge != second.challenge  # a recorded answer is useless on the next connection
    good = auth_response("pw", first.salt, first.challenge)
    assert first.verify("pw", good)
    assert not second.verify("pw", good)
    assert not first.verify("other", good)
    assert not first.verify("pw", None) and not first.verify("pw", 12) and not first.verify("pw", "é")
    assert first.as_hello() == {"challenge": first.challenge, "salt": "salt"}


def test_generated_passwords() -> None:
    words = {generate_password() for _ in range(50)}
    assert len(words) == 50 and all(len(w) == 16 and w.isalnum() for w in words)
    assert not any(c in w for w in words for c in "0O1lI")  # no look-alikes to read out


def test_codecs_round_trip_and_refuse_the_other_frame_kind() -> None:
    message = {"op": 6, "d": {"requestType": "GetVersion", "requestId": "x", "requestData": {"名": 1}}}
    as_json, as_msgpack = Codec(SUBPROTOCOL_JSON), Codec(SUBPROTOCOL_MSGPACK)
    assert isinstance(as_json.encode(message), str) and as_json.decode(as_json.encode(message)) == message
    assert isinstance(as_msgpack.encode(message), bytes) and as_msgpack.decode(as_msgpack.encode(message)) == message
    bad: list[tuple[Codec, str | bytes]] = [
        (as_json, b"{}"), (as_msgpack, "{}"), (as_json, "{"), (as_json, "[]"), (as_json, "[" * 100_000),
        (as_msgpack, b"\xc1"), (as_msgpack, msgpack.packb([1, 2])), (as_msgpack, msgpack.packb({1: 2}) + b"\x00"),
        (as_msgpack, msgpack.packb({1: 2})),  # a map with a non-string key
    ]
    for codec, frame in bad:
        with pytest.raises(ProtocolError) as err:
            codec.decode(frame)
        assert err.value.code == CloseCode.MESSAGE_DECODE_ERROR, frame[:20]


def test_split_message_checks_op_and_data() -> None:
    assert split_message({"op": 1, "d": {"rpcVersion": 1}}) == (OpCode.IDENTIFY, {"rpcVersion": 1})
    cases: list[tuple[dict[str, Any], int]] = [({}, 4006), ({"op": "1", "d": {}}, 4006), ({"op": True, "d": {}}, 4006), ({"op": 7, "d": {}}, 4006),
             ({"op": 6}, 4003), ({"op": 6, "d": None}, 4004), ({"op": 6, "d": "x"}, 4004)]
    for message, code in cases:
        with pytest.raises(ProtocolError) as err:
            split_message(message)
        assert err.value.code == code, message


def test_subprotocol_choice() -> None:
    assert choose_subprotocol(["obswebsocket.msgpack"]) == SUBPROTOCOL_MSGPACK
    assert choose_subprotocol(["x", "obswebsocket.json"]) == SUBPROTOCOL_JSON
    assert choose_subprotocol([]) is None and choose_subprotocol(["x"]) is None


def test_identify_checks() -> None:
    challenge = Challenge.new("s")
    answer = auth_response("pw", "s", challenge.challenge)

    def closes(data: dict[str, object]) -> int:
        with pytest.raises(ProtocolError) as err:
            Session(challenge, "pw").identify(data)
        return int(err.value.code)

    assert closes({}) == 4003
    assert closes({"rpcVersion": True}) == 4004
    assert closes({"rpcVersion": 2}) == 4010
    assert closes({"rpcVersion": 1}) == 4009
    assert closes({"rpcVersion": 1, "authentication": answer, "eventSubscriptions": "all"}) == 4004
    assert closes({"rpcVersion": 1, "authentication": answer, "eventSubscriptions": -1}) == 4005
    session = Session(challenge, "pw")
    assert session.identify({"rpcVersion": 1, "authentication": answer}) == {"negotiatedRpcVersion": 1}
    assert session.subscriptions == EventSubscription.ALL  # the default: every low-volume category
    assert not session.wants(EventSubscription.INPUT_VOLUME_METERS)
    with pytest.raises(ProtocolError) as again:
        session.identify({"rpcVersion": 1, "authentication": answer})
    assert again.value.code == 4008
    session.reidentify({"eventSubscriptions": (1 << 16) | (1 << 30)})  # unknown bits are ignored
    assert session.subscriptions == EventSubscription.INPUT_VOLUME_METERS
    open_session = Session(None, None)
    open_session.identify({"rpcVersion": 1})
    assert open_session.identified


def test_token_bucket() -> None:
    now = [0.0]
    bucket = TokenBucket(RateLimit(rate=10.0, burst=3, close_after_refused=4), clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.1  # one token back
    assert bucket.take() and not bucket.take()
    assert bucket.refused_in_a_row == 1  # one let through forgives one refusal, not the flood
    assert not bucket.flooding
    for _ in range(3):
        bucket.take()
    assert bucket.flooding


def test_password_is_generated_once_and_kept(memory_keyring: object, studio_home: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.control import password as store

    first = store.ensure_password()
    assert store.ensure_password() == first == store.load_password()
    assert repr(first) == "Secret('***')"
    # without a keyring: the user-only token file
    monkeypatch.setattr(store, "keyring_available", lambda: False)
    kept = store.ensure_password()
    assert kept != first and store.ensure_password() == kept
    assert (studio_home / "stream-tokens.json").stat().st_mode & 0o077 == 0


def test_headless_control_flags(memory_keyring: object, studio_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.cli import build_parser
    from studio.headless import control_config

    def config(*flags: str) -> object:
        return control_config(build_parser().parse_args(["headless", *flags]))

    assert config("--control-port", "0") is None
    monkeypatch.setenv("CONTROL_PW", "from-the-env")
    chosen = config("--control-port", "4999", "--control-password-env", "CONTROL_PW")
    assert chosen is not None and chosen.port == 4999 and chosen.password.reveal() == "from-the-env"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="NOT_SET"):
        config("--control-port", "4999", "--control-password-env", "NOT_SET")
    keyring_one = config("--control-port", "4999")
    assert keyring_one is not None and keyring_one.password is not None  # type: ignore[attr-defined]
    assert control_config(argparse.Namespace()) is None  # programmatic runs that did not ask
    assert json.dumps(repr(keyring_one)).count("***") >= 1  # the password never shows in a repr
