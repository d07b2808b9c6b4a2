"""Session data: every show writes one SQLite database of what happened on air (viewers, chat,
votes, product moments, segments, stream health), read back by ``studio.report``.

- ``schema``: the tables, ``schema_version`` and its migrations, opening a database.
- ``writer``: a bounded queue drained by one writer thread in batches (the clock and the net loop
  never wait on the disk; a kill -9 loses at most the last second).
- ``recorder``: binds a show's interaction source, rundown and outputs to a writer.
- ``store``: where session databases live and which is the latest.
"""

from studio.sessiondata.schema import SCHEMA_VERSION, open_database
from studio.sessiondata.store import latest_session, list_sessions, new_session_path, resolve_session
from studio.sessiondata.writer import Event, SessionWriter

__all__ = ["SCHEMA_VERSION", "Event", "SessionWriter", "latest_session", "list_sessions", "new_session_path",
           "open_database", "resolve_session"]
