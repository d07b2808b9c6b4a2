"""Session reports: figures read from a session database (``figures``), charts drawn with
matplotlib's Agg backend (``charts``), a self-contained HTML page and CSV (``export``), the table
of sessions and the comparison of two (``across``), and the ``studio report`` command (``command``).

No Qt here: the same report renders headless, in the CLI and on the GUI's worker thread.
"""

from studio.report.figures import SessionFigures, load_figures

__all__ = ["SessionFigures", "load_figures"]
