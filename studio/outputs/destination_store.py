"""The user's destinations on disk (``destinations.json`` in the data folder, atomic, with a
``schema_version``) and their keys in the keyring -- never in the file.

A key is stored under ``Destination.key_ref`` in the OS keyring; where there is none, the user may
choose the user-only token file (``studio.secrets``, the no-keyring choice of the trust issue), or
keep it for the session only (``session_keys``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from studio.outputs.destinations import Destination
from studio.paths import data_dir
from studio.secrets import (
    Secret,
    SecretStoreError,
    delete_file_token,
    delete_token,
    get_file_token,
    get_token,
    set_file_token,
    set_token,
)
from studio.storage import read_json, write_json_atomic

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE = "destinations.json"


def store_path() -> Path:
    return data_dir() / FILE


def load(path: Path | None = None) -> list[Destination]:
    path = path or store_path()
    if not path.exists():
        return []
    data = read_json(path)
    if not isinstance(data, dict) or int(data.get("schema_version", 0)) > SCHEMA_VERSION:
        raise ValueError(f"{path}: not a destinations file this studio can read")
    items = data.get("destinations", [])
    if not isinstance(items, list):
        raise ValueError(f"{path}: 'destinations' must be a list")
    return [Destination.from_json(item) for item in items]


def save(destinations: list[Destination], path: Path | None = None) -> None:
    write_json_atomic(path or store_path(), {"schema_version": SCHEMA_VERSION,
                                             "destinations": [d.to_json() for d in destinations]})


session_keys: dict[str, Secret] = {}  # keys kept for this run only (no keyring, no file chosen)


def store_key(dest: Destination, key: str, where: str = "keyring") -> str:
    """Keep ``key`` for ``dest``: ``keyring``, ``file`` or ``session``; returns where it went."""
    if where == "keyring":
        try:
            set_token(dest.key_ref, key)
            return "keyring"
        except SecretStoreError as exc:
            log.warning("no keyring for the destination key (%s): kept for this session", exc)
            where = "session"
    if where == "file":
        set_file_token(dest.key_ref, key)
        return "file"
    session_keys[dest.key_ref] = Secret(key)
    return "session"


def stored_key(dest: Destination) -> Secret | None:
    if dest.key_ref in session_keys:
        return session_keys[dest.key_ref]
    for lookup in (get_token, get_file_token):
        try:
            key = lookup(dest.key_ref)
        except (SecretStoreError, OSError, ValueError) as exc:
            log.info("destination key lookup: %s", exc)
            continue
        if key is not None:
            return key
    return None


def forget_key(dest: Destination) -> None:
    session_keys.pop(dest.key_ref, None)
    for delete in (delete_token, delete_file_token):
        try:
            delete(dest.key_ref)
        except (SecretStoreError, OSError) as exc:
            log.info("forgetting a destination key: %s", exc)
