"""Render one branch path of a rundown to MP4 with a progress bar and Cancel.

The render runs on a ``render-rundown`` thread (studio/render_rundown.py); its progress crosses to
the UI thread through Qt signals. Cancel makes the next progress callback stop the render (the
partial file is removed). ``close()``/``wait()`` join the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from studio.render_rundown import RundownRenderResult, render_rundown


class _Signals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)  # RundownRenderResult
    failed = Signal(str)


class RenderDialog(QProgressDialog):
    finished_render = Signal(object)  # RundownRenderResult (cancelled ones too)
    failed = Signal(str)

    def __init__(self, rundown_path: str | Path, path_choices: str | Sequence[str | int], output: str | Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(f"Rendering {Path(output).name} …", "Cancel", 0, 100, parent)
        self.setWindowTitle("Render show")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumDuration(0)
        self.render_result: RundownRenderResult | None = None
        self.error: str | None = None
        self._cancel = threading.Event()
        self._signals = _Signals()
        self._signals.progress.connect(self._on_progress)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self.canceled.connect(self._cancel.set)
        self._thread = threading.Thread(target=self._run, args=(rundown_path, path_choices, output),
                                        name="render-rundown", daemon=True)
        self._thread.start()

    def _run(self, rundown_path: str | Path, choices: str | Sequence[str | int], output: str | Path) -> None:
        def progress(done: int, total: int) -> bool:
            self._signals.progress.emit(done, total)
            return not self._cancel.is_set()

        try:
            result = render_rundown(rundown_path, choices, output, progress)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, never raised into Qt
            self._signals.failed.emit(str(exc))
            return
        self._signals.finished.emit(result)

    def _on_progress(self, done: int, total: int) -> None:
        self.setMaximum(max(1, total))
        self.setValue(done)
        self.setLabelText(f"Rendering frame {done} of {total}")

    def _on_finished(self, result: RundownRenderResult) -> None:
        self.render_result = result
        self.setLabelText("Cancelled" if result.cancelled else f"Done: {result.output}")
        self.setCancelButtonText("Close")
        self.finished_render.emit(result)

    def _on_failed(self, message: str) -> None:
        self.error = message
        self.setLabelText(f"Render failed: {message}")
        self.setCancelButtonText("Close")
        self.failed.emit(message)

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Join the render thread (tests, shutdown); True when it has ended."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def done(self, code: int) -> None:
        self._cancel.set()
        super().done(code)
