"""`--chat` specs and the adapters (with their secrets) they build."""

from __future__ import annotations

import pytest

from studio.interaction.bilibili import DEFAULT_URL, BilibiliAdapter
from studio.interaction.chat_sources import (
    DOUYIN_SECRET_NAME,
    ChatSpec,
    bilibili_key_name,
    build_adapter,
    lookup_secret,
    parse_chat_spec,
)
from studio.interaction.douyin import DouyinPushAdapter
from studio.secrets import Secret, set_token


def test_specs_parse() -> None:
    assert parse_chat_spec("bilibili:123") == ChatSpec("bilibili", 123)
    assert parse_chat_spec("bilibili:5?url=ws://127.0.0.1:9/sub") == ChatSpec("bilibili", 5, "ws://127.0.0.1:9/sub")
    assert parse_chat_spec("douyin-push:8891") == ChatSpec("douyin-push", 8891)
    assert parse_chat_spec("douyin-push:8891?host=0.0.0.0").host == "0.0.0.0"
    for bad in ("bilibili", "bilibili:abc", "bilibili:0", "youtube:1", "douyin-push:70000",
                "bilibili:5?url=http://x/sub", "bilibili:5?token=x", "douyin-push:1?url=ws://x"):
        with pytest.raises(ValueError):
            parse_chat_spec(bad)


def test_adapters_get_their_secrets() -> None:
    secrets = {bilibili_key_name(7): Secret("room-key-7"), DOUYIN_SECRET_NAME: Secret("dy-secret")}

    def lookup(name: str, _env: str) -> Secret | None:
        return secrets.get(name)

    bili = build_adapter(parse_chat_spec("bilibili:7"), lookup)
    assert isinstance(bili, BilibiliAdapter) and bili.url == DEFAULT_URL and not bili.open_platform
    assert b"room-key-7" in bili.auth_packet()
    dy = build_adapter(parse_chat_spec("douyin-push:8899"), lookup)
    assert isinstance(dy, DouyinPushAdapter) and dy.url == "http://127.0.0.1:8899/douyin/live"
    with pytest.raises(ValueError, match="STUDIO_DOUYIN_APP_SECRET"):
        build_adapter(parse_chat_spec("douyin-push:8899"), lambda _n, _e: None)


def test_secret_lookup_order(memory_keyring: object, studio_home: object) -> None:
    set_token(DOUYIN_SECRET_NAME, "from-keyring")
    assert lookup_secret(DOUYIN_SECRET_NAME, "douyin-secret", {}) == Secret("from-keyring")
    env = {"STUDIO_DOUYIN_APP_SECRET": "from-env"}
    assert lookup_secret(DOUYIN_SECRET_NAME, "douyin-secret", env) == Secret("from-env")
    assert lookup_secret(bilibili_key_name(1), "bilibili-key", {}) is None


def test_open_platform_spec_and_its_three_secrets() -> None:
    from studio.interaction.bilibili_open import BilibiliOpenAdapter
    from studio.interaction.chat_sources import (
        BILIBILI_OPEN_KEY_ID_NAME,
        BILIBILI_OPEN_KEY_SECRET_NAME,
        bilibili_open_code_name,
    )

    assert parse_chat_spec("bilibili-open:1700000001?url=http://127.0.0.1:9") == \
        ChatSpec("bilibili-open", 1700000001, "http://127.0.0.1:9")
    for bad in ("bilibili-open:0", "bilibili-open:5?url=ws://x", "bilibili-open:5?room=1"):
        with pytest.raises(ValueError):
            parse_chat_spec(bad)
    secrets = {BILIBILI_OPEN_KEY_ID_NAME: Secret("ak-1"), BILIBILI_OPEN_KEY_SECRET_NAME: Secret("sk-1"),
               bilibili_open_code_name(5): Secret("CODE5")}
    adapter = build_adapter(parse_chat_spec("bilibili-open:5?url=http://127.0.0.1:9"),
                            lambda name, _env: secrets.get(name))
    assert isinstance(adapter, BilibiliOpenAdapter) and adapter.client.base_url == "http://127.0.0.1:9"
    assert adapter.client.access_key_id == "ak-1" and adapter.client.app_id == 5
    secrets.pop(bilibili_open_code_name(5))
    with pytest.raises(ValueError, match="identity code.*STUDIO_BILIBILI_OPEN_CODE"):
        build_adapter(parse_chat_spec("bilibili-open:5"), lambda name, _env: secrets.get(name))
