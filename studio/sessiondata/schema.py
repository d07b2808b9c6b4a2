"""The session database's tables and their migrations.

One generic ``events`` table (time, kind, who, what) keeps writes to one prepared statement and
lets new event kinds arrive without a migration; ``health`` holds the stream samples; ``meta`` the
session's own facts (started, ended, rundown). ``schema_version`` records the applied migrations.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# each entry moves the database from version i to i + 1; append only, never edit a shipped one
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        t REAL NOT NULL,                    -- seconds since the epoch
        kind TEXT NOT NULL,                 -- enter, leave, danmaku, like, gift, vote, product_click,
                                            -- product_shown, product_hidden, segment, branch, poll
        platform TEXT NOT NULL DEFAULT '',  -- hub, bilibili, douyin ...
        user TEXT NOT NULL DEFAULT '',      -- the studio-wide viewer key (platform:id for platforms)
        nick TEXT NOT NULL DEFAULT '',
        ref TEXT NOT NULL DEFAULT '',       -- poll id, product, segment id, gift name
        value REAL NOT NULL DEFAULT 0,      -- count, option, gift value
        text TEXT NOT NULL DEFAULT ''       -- danmaku text, segment kind, poll counts (JSON)
    );
    CREATE INDEX events_kind_t ON events (kind, t);
    CREATE TABLE health (t REAL NOT NULL, bitrate_bps INTEGER NOT NULL, lagged INTEGER NOT NULL,
                         viewers INTEGER NOT NULL);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def open_database(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and migrate) a session database. WAL with synchronous=NORMAL: a committed batch
    survives the process being killed; readers never block the writer."""
    path = Path(path)
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"no session database at {path}")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        version = _version(db)
        if version > SCHEMA_VERSION:
            db.close()
            raise ValueError(f"{path.name} has schema version {version}; this studio reads up to {SCHEMA_VERSION}")
        return db
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    migrate(db)
    return db


def _version(db: sqlite3.Connection) -> int:
    found = db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
    if found is None:
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite3.Connection) -> int:
    """Apply the missing migrations, each in its own transaction; returns the version reached."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied REAL NOT NULL)")
    version = _version(db)
    if version > SCHEMA_VERSION:
        raise ValueError(f"session database has schema version {version}; this studio knows up to {SCHEMA_VERSION}")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN")
        try:
            for statement in MIGRATIONS[target - 1].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO schema_version (version, applied) VALUES (?, strftime('%s','now'))", (target,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
