"""The control server's password: in the OS keyring (or, without one, the user-only token file that
``studio.secrets`` keeps), generated on first use so auth is on from the first start."""

from __future__ import annotations

import logging

from studio.control.auth import generate_password
from studio.secrets import (
    Secret,
    SecretStoreError,
    get_file_token,
    get_token,
    keyring_available,
    set_file_token,
    set_token,
)

log = logging.getLogger(__name__)

PASSWORD_KEY = "control:password"


def load_password() -> Secret | None:
    """The stored password, None when there is none yet."""
    if keyring_available():
        try:
            return get_token(PASSWORD_KEY)
        except SecretStoreError as exc:
            log.warning("control: %s; trying the token file", exc)
    return get_file_token(PASSWORD_KEY)


def store_password(password: str) -> Secret:
    secret = Secret(password)
    if keyring_available():
        try:
            set_token(PASSWORD_KEY, password)
            return secret
        except SecretStoreError as exc:
            log.warning("control: %s; keeping the password in the user-only token file", exc)
    set_file_token(PASSWORD_KEY, password)
    return secret


def ensure_password() -> Secret:
    """The stored password, or a new one stored now."""
    return load_password() or store_password(generate_password())
