"""The asset library: drama clips imported from folders, probed on a worker (length, size, codec,
audio, a thumbnail), tagged and searchable; broken and missing files flagged; rundowns and media
sources refer to clips by library id.

- ``clip``: one clip's record.  ``probe``: PyAV probing and thumbnails (bounded, never hangs).
- ``library``: the thread-safe collection, search, tags, missing/relink, JSON persistence.
- ``importer``: folder import (on a worker thread for the UI, cancellable).
- ``links``: rundown segments and media sources by id; old files with plain paths are migrated.
- ``store``: the studio's library file and the demo's clips on first run.
"""

from studio.library.clip import Clip
from studio.library.importer import ImportJob, ImportProgress, ImportResult, import_folder, scan_folder
from studio.library.library import Library, LibraryChanged, default_library_path
from studio.library.probe import VIDEO_EXTENSIONS, ProbeResult, probe_file

__all__ = ["VIDEO_EXTENSIONS", "Clip", "ImportJob", "ImportProgress", "ImportResult", "Library", "LibraryChanged",
           "ProbeResult", "default_library_path", "import_folder", "probe_file", "scan_folder"]
