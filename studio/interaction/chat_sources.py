"""Platform chat sources named on the command line or in settings, and their secrets.

Specs (``studio headless --chat``, repeatable):

- ``bilibili:ROOM`` — the room's web message stream; ``bilibili:ROOM?url=ws://host:port/sub`` for
  another endpoint (a proxy, a test server). The room's auth key (getDanmuInfo's ``token``) or the
  open platform's auth body, when stored, come from the secret store.
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

PLATFORMS = ("bilibili", "douyin-push")
SECRET_ENV = {"bilibili-key": "STUDIO_BILIBILI_KEY", "bilibili-auth-body": "STUDIO_BILIBILI_AUTH_BODY",
              "douyin-secret": "STUDIO_DOUYIN_APP_SECRET"}


def bilibili_key_name(room: int) -> str:
    return f"chat:bilibili:{room}:key"


def bilibili_auth_body_name(room: int) -> str:
    return f"chat:bilibili:{room}:auth-body"


DOUYIN_SECRET_NAME = "chat:douyin:app-secret"


@dataclass(frozen=True)
class ChatSpec:
    platform: str  # bilibili | douyin-push
    number: int  # room id (bilibili) or port (douyin-push)
    url: str | None = None  # bilibili endpoint override
    host: str = "127.0.0.1"  # douyin-push listening address

    def __str__(self) -> str:
        return f"{self.platform}:{self.number}"


def parse_chat_spec(text: str) -> ChatSpec:
    """``bilibili:ROOM[?url=ws://…]`` or ``douyin-push:PORT[?host=…]``; ValueError says what is wrong."""
    platform, sep, rest = text.partition(":")
    if not sep or platform not in PLATFORMS:
        raise ValueError(f"chat source {text[:60]!r}: expected bilibili:ROOM or douyin-push:PORT")
    number_text, _, query = rest.partition("?")
    if not number_text.isdigit() or len(number_text) > 15:
        raise ValueError(f"chat source {text[:60]!r}: {'room id' if platform == 'bilibili' else 'port'} "
                         "must be a number")
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
    from studio.interaction.douyin import DouyinPushAdapter

    app_secret = secret(DOUYIN_SECRET_NAME, "douyin-secret")
    if app_secret is None:
        raise ValueError(f"{spec}: no Douyin app secret: set {SECRET_ENV['douyin-secret']} or store it in "
                         "Settings > Platform chat (keyring)")
    return DouyinPushAdapter(app_secret, host=spec.host, port=spec.number)
