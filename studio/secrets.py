"""Bearer tokens (WHIP stream keys) in the OS keyring, never in JSON or logs (DESIGN.md, files).

Tokens are stored under the service ``drama-live-studio`` with a caller-chosen key (for
example the output's id). :class:`Secret` wraps a token so ``repr()``/``str()`` never show it.
:func:`redact` is the one scrubber for everything a user can see: :class:`RedactingFilter` runs it
on log records, and status lines (headless prints, the window's status texts, ``OutputState``
messages) run it before they are shown.

Without an OS keyring (a server, a container, no Secret Service) the user may choose to keep a
token in a file readable only by them (``stream-tokens.json``, mode 0600, in the data folder):
:func:`set_file_token`. That is weaker than a keyring (any process running as the user, and
backups, can read it), so the UI warns before offering it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import threading
from pathlib import Path
from urllib.parse import quote

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "drama-live-studio"
TOKEN_FILE = "stream-tokens.json"
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
            _known.add(quote(token, safe=""))  # as a server may echo it from a query or form


def redact(text: str) -> str:
    """``text`` without any token this process has seen, nor any ``Bearer ...`` value."""
    with _known_lock:
        tokens = sorted(_known, key=len, reverse=True)
    for token in tokens:
        if token in text:
            text = text.replace(token, _REDACTED)
    return _BEARER.sub(r"\1" + _REDACTED, text)


class RedactingFilter(logging.Filter):
    """Replaces known tokens (and ``Bearer ...`` values) in formatted log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
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


def keyring_available() -> bool:
    try:
        _backend()
    except Exception:  # a broken backend module is as good as none
        return False
    return True


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
    except SecretStoreError:
        raise
    except Exception as exc:  # a broken backend raises anything (DBus errors are not KeyringErrors)
        raise SecretStoreError(f"cannot store the token {key!r} in the keyring: {exc}") from None


def get_token(key: str) -> Secret | None:
    """The token stored under ``key``, or None when there is none."""
    _check_key(key)
    try:
        value = _backend().get_password(SERVICE, key)
    except SecretStoreError:
        raise
    except Exception as exc:  # a broken backend raises anything (DBus errors are not KeyringErrors)
        raise SecretStoreError(f"cannot read the token {key!r} from the keyring: {exc}") from None
    return Secret(value) if value else None


def delete_token(key: str) -> bool:
    """Remove the token; False when none was stored."""
    _check_key(key)
    try:
        _backend().delete_password(SERVICE, key)
    except keyring.errors.PasswordDeleteError:
        return False
    except SecretStoreError:
        raise
    except Exception as exc:  # a broken backend raises anything (DBus errors are not KeyringErrors)
        raise SecretStoreError(f"cannot delete the token {key!r} from the keyring: {exc}") from None
    return True


# ---- a file readable only by the user (the user's choice when there is no keyring) ------------------
def token_file() -> Path:
    from studio.paths import data_dir

    return data_dir() / TOKEN_FILE


def _read_token_file(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SecretStoreError(f"cannot read {path}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):  # someone loosened it: close it again before use
        log.warning("%s was readable by other users; making it readable only by you", path)
        try:
            path.chmod(0o600)
        except OSError as exc:
            raise SecretStoreError(f"{path} is readable by other users and cannot be fixed: {exc}") from None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SecretStoreError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise SecretStoreError(f"{path}: expected an object of name -> token")
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v}


def _write_token_file(path: Path, tokens: dict[str, str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        # created 0600 from the start: the token is never readable by others, not even briefly
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(tokens, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # O_CREAT keeps an existing file's mode
        os.replace(tmp, path)
    except OSError as exc:
        raise SecretStoreError(f"cannot write {path}: {exc}") from None


_file_lock = threading.Lock()


def set_file_token(key: str, token: str) -> Path:
    """Keep ``token`` under ``key`` in the user-only token file; returns the file's path."""
    _check_key(key)
    Secret(token)
    path = token_file()
    with _file_lock:
        tokens = _read_token_file(path)
        tokens[key] = token
        _write_token_file(path, tokens)
    return path


def get_file_token(key: str) -> Secret | None:
    _check_key(key)
    with _file_lock:
        value = _read_token_file(token_file()).get(key)
    return Secret(value) if value else None


def delete_file_token(key: str) -> bool:
    _check_key(key)
    path = token_file()
    with _file_lock:
        tokens = _read_token_file(path)
        if tokens.pop(key, None) is None:
            return False
        if tokens:
            _write_token_file(path, tokens)
        else:
            path.unlink(missing_ok=True)
    return True
