"""Platform chat sources named on the command line or in settings, and their secrets.

Specs (``studio headless --chat``, repeatable):

- ``bilibili:ROOM`` — the room's web message stream; ``bilibili:ROOM?url=ws://host:port/sub`` for
  another endpoint (a proxy, a test server). The room's auth key (getDanmuInfo's ``token``) or the
  open platform's auth body, when stored, come from the secret store.
- ``bilibili-open:APP_ID`` — a room through the open platform (project ``APP_ID``): the signed app
  start names the message stream; needs the access key id and secret and the streamer's identity
  code (身份码); ``bilibili-open:APP_ID?url=https://host`` for another platform endpoint.
- ``douyin-push:PORT`` — the live-data push receiver on 127.0.0.1:PORT
  (``douyin-push:PORT?host=0.0.0.0`` to listen on every interface: the user's choice); the app
  secret is required.

Secrets are looked up in the environment variable named in :data:`SECRET_ENV`, then the OS keyring,
then the user-only token file (``studio.secrets``); they are never part of a spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from studio.interaction.adapters import Adapter
from studio.secrets import Secret, SecretStoreError, get_file_token, get_token

PLATFORMS = ("bilibili", "bilibili-open", "douyin-push")
SECRET_ENV = {"bilibili-key": "STUDIO_BILIBILI_KEY", "bilibili-auth-body": "STUDIO_BILIBILI_AUTH_BODY",
              "douyin-secret": "STUDIO_DOUYIN_APP_SECRET", "bilibili-open-key-id": "STUDIO_BILIBILI_OPEN_KEY_ID",
              "bilibili-open-key-secret": "STUDIO_BILIBILI_OPEN_KEY_SECRET",
              "bilibili-open-code": "STUDIO_BILIBILI_OPEN_CODE"}
BILIBILI_OPEN_KEY_ID_NAME = "chat:bilibili-open:access-key-id"
BILIBILI_OPEN_KEY_SECRET_NAME = "chat:bilibili-open:access-key-secret"


def bilibili_open_code_name(app_id: int) -> str:
    return f"chat:bilibili-open:{app_id}:code"


def bilibili_key_name(room: int) -> str:
    return f"chat:bilibili:{room}:key"


def bilibili_auth_body_name(room: int) -> str:
    return f"chat:bilibili:{room}:auth-body"


DOUYIN_SECRET_NAME = "chat:douyin:app-secret"


@dataclass(frozen=True)
class ChatSpec:
    platform: str  # bilibili | bilibili-open | douyin-push
    number: int  # room id (bilibili), app id (bilibili-open) or port (douyin-push)
    url: str | None = None  # bilibili endpoint override (ws:// for the stream, http(s):// for the open platform)
    host: str = "127.0.0.1"  # douyin-push listening address

    def __str__(self) -> str:
        return f"{self.platform}:{self.number}"


def parse_chat_spec(text: str) -> ChatSpec:
    """``bilibili:ROOM[?url=ws://…]``, ``bilibili-open:APP_ID[?url=https://…]`` or
    ``douyin-push:PORT[?host=…]``; ValueError says what is wrong."""
    platform, sep, rest = text.partition(":")
    if not sep or platform not in PLATFORMS:
        raise ValueError(f"chat source {text[:60]!r}: expected bilibili:ROOM, bilibili-open:APP_ID or "
                         "douyin-push:PORT")
    number_text, _, query = rest.partition("?")
    if not number_text.isdigit() or len(number_text) > 15:
        what = {"bilibili": "room id", "bilibili-open": "app id"}.get(platform, "port")
        raise ValueError(f"chat source {text[:60]!r}: {what} must be a number")
    number = int(number_text)
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if platform == "bilibili":
        if number <= 0:
            raise ValueError(f"chat source {text[:60]!r}: room id must be > 0")
        unknown = set(params) - {"url"}
        url = params.get("url")
        if url is not None and urlsplit(url).scheme not in ("ws", "wss"):
            raise ValueError(f"chat source {text[:60]!r}: url must be ws:// or wss://")
        host = "127.0.0.1"
    elif platform == "bilibili-open":
        if number <= 0:
            raise ValueError(f"chat source {text[:60]!r}: app id must be > 0")
        unknown = set(params) - {"url"}
        url = params.get("url")
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"chat source {text[:60]!r}: url must be http:// or https://")
        host = "127.0.0.1"
    else:
        if not 1 <= number <= 65535:
            raise ValueError(f"chat source {text[:60]!r}: port must be 1-65535")
        unknown = set(params) - {"host"}
        url, host = None, params.get("host", "127.0.0.1")
    if unknown:
        raise ValueError(f"chat source {text[:60]!r}: unknown option(s) {', '.join(sorted(unknown))}")
    return ChatSpec(platform, number, url, host)


def lookup_secret(name: str, env_key: str, environ: dict[str, str] | None = None) -> Secret | None:
    """A secret from the environment, the keyring or the token file (in that order); None if none."""
    import os

    value = (environ if environ is not None else dict(os.environ)).get(SECRET_ENV[env_key])
    if value:
        return Secret(value)
    try:
        found = get_token(name)
    except SecretStoreError:
        found = None
    if found is not None:
        return found
    try:
        return get_file_token(name)
    except SecretStoreError:
        return None


def build_adapter(spec: ChatSpec, secret: Callable[[str, str], Secret | None] = lookup_secret) -> Adapter:
    """The adapter for one spec, with its secrets. ValueError when a required secret is missing."""
    if spec.platform == "bilibili":
        from studio.interaction.bilibili import DEFAULT_URL, BilibiliAdapter

        return BilibiliAdapter(spec.number, url=spec.url or DEFAULT_URL,
                               key=secret(bilibili_key_name(spec.number), "bilibili-key"),
                               auth_body=secret(bilibili_auth_body_name(spec.number), "bilibili-auth-body"))
    if spec.platform == "bilibili-open":
        from studio.interaction.bilibili_open import DEFAULT_BASE_URL, BilibiliOpenAdapter, OpenPlatformClient

        key_id = secret(BILIBILI_OPEN_KEY_ID_NAME, "bilibili-open-key-id")
        key_secret = secret(BILIBILI_OPEN_KEY_SECRET_NAME, "bilibili-open-key-secret")
        code = secret(bilibili_open_code_name(spec.number), "bilibili-open-code")
        missing = [what for what, value in (("access key id", key_id), ("access key secret", key_secret),
                                            ("identity code", code)) if value is None]
        if missing or key_id is None or key_secret is None or code is None:
            envs = ", ".join(SECRET_ENV[k] for k in ("bilibili-open-key-id", "bilibili-open-key-secret",
                                                      "bilibili-open-code"))
            raise ValueError(f"{spec}: no Bilibili open platform {' or '.join(missing)}: set {envs} or store them "
                             "in Settings > Platform chat (keyring)")
        client = OpenPlatformClient(spec.number, key_id.reveal(), key_secret, code,
                                    base_url=spec.url or DEFAULT_BASE_URL)
        return BilibiliOpenAdapter(client)
    from studio.interaction.douyin import DouyinPushAdapter

    app_secret = secret(DOUYIN_SECRET_NAME, "douyin-secret")
    if app_secret is None:
        raise ValueError(f"{spec}: no Douyin app secret: set {SECRET_ENV['douyin-secret']} or store it in "
                         "Settings > Platform chat (keyring)")
    return DouyinPushAdapter(app_secret, host=spec.host, port=spec.number)
