"""Where a WHIP bearer token comes from: an environment variable the user names, or the keyring."""

from __future__ import annotations

import os

from studio.secrets import Secret, get_token, set_token


def keyring_key(url: str) -> str:
    """One token per WHIP endpoint."""
    return f"whip:{url}"


def resolve_token(url: str, env_var: str | None) -> Secret | None:
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            raise ValueError(f"environment variable {env_var} is empty or not set")
        return Secret(value)
    return get_token(keyring_key(url))


def store_token(url: str, token: str) -> None:
    set_token(keyring_key(url), token)
