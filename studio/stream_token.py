"""Where a WHIP bearer token comes from: an environment variable the user names, the keyring, or the
user-only token file (the user's choice when there is no keyring).

A token is optional: many WHIP endpoints need none. So a keyring that is missing, locked or broken
never stops a stream; the lookup says why once (a log warning) and the stream goes without one.
"""

from __future__ import annotations

import logging
import os

from studio.secrets import Secret, get_file_token, get_token, set_token

log = logging.getLogger(__name__)


def keyring_key(url: str) -> str:
    """One token per WHIP endpoint."""
    return f"whip:{url}"


def resolve_token(url: str, env_var: str | None) -> Secret | None:
    """The token for ``url``: from ``env_var`` when named (it must be set), else a stored one, else None."""
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            raise ValueError(f"environment variable {env_var} is empty or not set")
        return Secret(value)
    key = keyring_key(url)
    try:
        token = get_token(key)
    except Exception as exc:  # no keyring, a locked one, a broken D-Bus: the stream still goes
        log.warning("no stored stream token (%s); streaming without one. Pass --token-env VAR if the "
                    "endpoint needs a token", exc)
        token = None
    if token is None:
        try:
            token = get_file_token(key)
        except Exception as exc:
            log.warning("cannot read the stream token file (%s); streaming without a token", exc)
    return token


def store_token(url: str, token: str) -> None:
    set_token(keyring_key(url), token)
