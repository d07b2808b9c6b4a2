"""Bearer tokens (WHIP stream keys) in the OS keyring, never in JSON or logs (DESIGN.md, files).

Tokens are stored under the service ``drama-live-studio`` with a caller-chosen key (for
example the output's id). :class:`Secret` wraps a token so ``repr()``/``str()`` never show it,
and :class:`RedactingFilter` scrubs every token this process has seen from log records.
"""

from __future__ import annotations

import logging
import re
import threading

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

SERVICE = "drama-live-studio"
_REDACTED = "***"
_BEARER = re.compile(r"(Bearer\s+)[^\s'\",]+")


class SecretStoreError(RuntimeError):
    """The keyring cannot be used; the message tells the user what to do."""


class Secret:
    """A token that does not show itself in repr(), str() or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("Secret: the token must be a non-empty string")
        self._value = value
        remember(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


_known: set[str] = set()
_known_lock = threading.Lock()


def remember(token: str) -> None:
    """Register a token so log records that contain it are redacted."""
    if token and len(token) >= 4:  # very short strings would redact ordinary words
        with _known_lock:
            _known.add(token)


def redact(text: str) -> str:
    with _known_lock:
        tokens = sorted(_known, key=len, reverse=True)
    for token in tokens:
        if token in text:
            text = text.replace(token, _REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Replaces known tokens (and ``Bearer ...`` values) in formatted log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        cleaned = _BEARER.sub(r"\1" + _REDACTED, cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add the filter to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    flt = RedactingFilter()
    target.addFilter(flt)
    for handler in target.handlers:
        handler.addFilter(flt)
    return flt


def _backend() -> KeyringBackend:
    backend = keyring.get_keyring()
    if backend.priority <= 0 or type(backend).__module__.startswith("keyring.backends.fail"):
        raise SecretStoreError(
            "no OS keyring is available to store stream keys (install and unlock a Secret Service "
            "provider such as GNOME Keyring or KWallet, or use macOS Keychain / Windows Credential Manager)"
        )
    return backend


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise ValueError("secret key: expected a non-empty name such as 'whip:main'")
    return key


def set_token(key: str, token: str) -> None:
    """Store ``token`` under ``key``."""
    _check_key(key)
    Secret(token)  # validates and registers for redaction
    try:
        _backend().set_password(SERVICE, key, token)
    except keyring.errors.KeyringError as exc:
        raise SecretStoreError(f"cannot store the token {key!r} in the keyring: {exc}") from None


def get_token(key: str) -> Secret | None:
    """The token stored under ``key``, or None when there is none."""
    _check_key(key)
    try:
        value = _backend().get_password(SERVICE, key)
    except keyring.errors.KeyringError as exc:
        raise SecretStoreError(f"cannot read the token {key!r} from the keyring: {exc}") from None
    return Secret(value) if value else None


def delete_token(key: str) -> bool:
    """Remove the token; False when none was stored."""
    _check_key(key)
    try:
        _backend().delete_password(SERVICE, key)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise SecretStoreError(f"cannot delete the token {key!r} from the keyring: {exc}") from None
    return True
