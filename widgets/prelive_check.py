"""The pre-live check: one flow for everything the director should know before going live.

It lists, in one dialog, the extreme words (Advertising Law) in on-screen text and the files the
show cannot play: every clip a rundown can reach, whichever branch the audience picks, and the
media and image files of the scenes (``studio.rundown.preflight``). The director goes live anyway
or cancels. Opening clips is file I/O and decoding, so the checks run on a ``prelive-check`` worker
thread and the answer comes back through a queued signal; the dialog is window-modal (``open``),
never a nested event loop. Nothing to list, nothing to ask: ``go`` runs at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from scenes.model import SceneCollection
from studio.interaction.compliance import SourceTextWarning, scan_collection
from studio.outputs.output_plan import OutputPlan, plan_outputs
from studio.outputs.output_scaling import DEFAULT_STREAM_MAX_HEIGHT
from studio.rundown.model import Rundown
from studio.rundown.persistence import load_rundown
from studio.rundown.preflight import MissingProduct, Problem, missing_products, preflight, preflight_file
from widgets.i18n import tr

SHOWN = 12  # lines per section; the rest is counted


@dataclass(frozen=True)
class PreLiveFindings:
    words: tuple[SourceTextWarning, ...] = ()
    problems: tuple[Problem, ...] = ()
    # a canvas above 1080p: what this machine records and streams (told, never a reason to ask)
    plan: OutputPlan | None = None
    products: tuple[MissingProduct, ...] = ()  # cards and product moments naming no catalogue product

    def __bool__(self) -> bool:
        return bool(self.words or self.problems or self.products)


def run_checks(collection: SceneCollection, rundown: Rundown | Path | None,
               cancelled: Callable[[], bool] = lambda: False,
               products: Collection[str] | None = None, stream_cap: int | None = None) -> PreLiveFindings:
    """Every pre-live check (worker thread: it opens and decodes files). ``products``: the
    catalogue's product ids (None: no catalogue, cards and moments are not checked); ``stream_cap``:
    the user's stream resolution (the output plan's)."""
    words = tuple(scan_collection(collection))
    if isinstance(rundown, Path):
        problems = preflight_file(rundown, collection, cancelled)
    else:
        problems = preflight(rundown, collection, cancelled)
    missing: list[MissingProduct] = []
    if products is not None:
        loaded = rundown
        if isinstance(rundown, Path):
            try:
                loaded = load_rundown(rundown)
            except (OSError, ValueError):
                loaded = None  # preflight_file has reported it
        missing = missing_products(loaded if isinstance(loaded, Rundown) else None, collection, products)
    return PreLiveFindings(words, tuple(problems), output_plan_for(collection, stream_cap), tuple(missing))


def output_plan_for(collection: SceneCollection, stream_cap: int | None = None) -> OutputPlan | None:
    """Above 1080p, what this machine keeps: probes the encoders and times libx264 at the canvas
    size (seconds, the first time in a process; worker thread only)."""
    video = collection.video
    if video.height <= DEFAULT_STREAM_MAX_HEIGHT:
        return None
    return plan_outputs((video.width, video.height), video.fps, stream_cap=stream_cap)


def describe_plan(plan: OutputPlan) -> str:
    """The output plan in plain words (status line and the pre-live dialog)."""
    record = f"{plan.record[0]}×{plan.record[1]}"
    canvas = f"{plan.canvas[0]}×{plan.canvas[1]}"
    stream = f"{plan.stream_max_height}p" if plan.stream_max_height else record
    cap = plan.capability
    if cap is None:
        return tr("{canvas} canvas: records {record} on {encoder}, streams {stream}.").format(
            canvas=canvas, record=record, encoder=plan.encoder, stream=stream)
    measured = tr("{encoder} encodes {size} at {fps} fps here").format(
        encoder=cap.encoder, size=f"{cap.width}×{cap.height}", fps=f"{cap.fps:.0f}")
    if not plan.scaled:
        return tr("{measured}: records {record}, streams {stream}.").format(
            measured=measured, record=record, stream=stream)
    slow = tr("{measured}, too slow to record {canvas} live: records {record} scaled from the canvas and streams {stream}. Add a hardware encoder (NVENC, Quick Sync, AMF) to record {canvas}.")  # noqa: E501 - one literal: the catalog test reads it whole
    return slow.format(measured=measured, canvas=canvas, record=record, stream=stream)


def _section(title: str, lines: list[str]) -> str:
    text = title + "\n" + "\n".join(f"• {line}" for line in lines[:SHOWN])
    if len(lines) > SHOWN:
        text += "\n" + tr("…and {count} more").format(count=len(lines) - SHOWN)
    return text


def describe(findings: PreLiveFindings) -> str:
    """The dialog's plain text (viewer-independent, but still never rich text)."""
    parts: list[str] = []
    if findings.words:
        parts.append(_section(tr("On-screen text has words the Advertising Law forbids:"),
                              [f"{w.source} · {tr(w.field)}: {w.warning.word}" for w in findings.words]))
    if findings.problems:
        parts.append(_section(tr("Files the show cannot play (found before going live):"),
                              [str(p) for p in findings.problems]))
    if findings.products:
        parts.append(_section(tr("Products not in the catalogue (the card would show the wrong product):"),
                              [str(p) for p in findings.products]))
    if findings.plan is not None:
        parts.append(describe_plan(findings.plan))
    parts.append(tr("Go live anyway?"))
    return "\n\n".join(parts)


class PreLiveCheck(QObject):
    """Runs the checks off the UI thread and asks the director when they find something."""

    checked = Signal(object)  # PreLiveFindings, on the UI thread (for status lines and tests)
    _done = Signal(object)  # worker -> UI thread

    def __init__(self, collection: SceneCollection, parent: QWidget,
                 products: Callable[[], Collection[str] | None] = lambda: None,
                 stream_cap: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(parent)
        self.collection = collection
        self._products = products  # the catalogue's product ids now (None: no catalogue)
        self._stream_cap = stream_cap  # the user's stream resolution now (output_scaling)
        self._parent = parent
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()  # stops a check between two files when the window closes
        self._then: tuple[Callable[[], None], Callable[[], None]] | None = None
        self.dialog: QMessageBox | None = None
        self._done.connect(self._on_done)

    @property
    def busy(self) -> bool:
        """A check is running or its dialog is waiting for the director."""
        return self._then is not None

    def run(self, rundown: Rundown | Path | None, go: Callable[[], None],
            cancel: Callable[[], None] = lambda: None) -> bool:
        """Check, then call ``go`` (nothing found, or "Go live anyway") or ``cancel``. False when a
        check is already under way (this one is not started)."""
        if self.busy:
            return False
        self._then = (go, cancel)
        collection, done = self.collection, self._done
        ids = self._products()
        products = frozenset(ids) if ids is not None else None  # a snapshot: the catalogue is edited on this thread
        stream_cap = self._stream_cap()

        def work() -> None:
            try:
                findings = run_checks(collection, rundown, self._closing.is_set, products, stream_cap)
            except Exception as exc:  # noqa: BLE001 - a check that breaks must still answer the UI
                findings = PreLiveFindings(problems=(Problem("", f"the pre-live check failed: {exc}", "check"),))
            done.emit(findings)

        self._thread = threading.Thread(target=work, name="prelive-check", daemon=True)
        self._thread.start()
        return True

    def _on_done(self, findings: PreLiveFindings) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._then is None:
            return  # closed meanwhile: nobody is waiting for this answer
        self.checked.emit(findings)
        if not findings:
            self._finish(True)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Drama Live Studio"), describe(findings),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self._parent)
        box.setObjectName("confirmPreLive")
        box.setTextFormat(Qt.TextFormat.PlainText)  # file names and on-screen text are never markup
        go_button = box.button(QMessageBox.StandardButton.Yes)
        go_button.setText(tr("Go live anyway"))
        box.button(QMessageBox.StandardButton.No).setText(tr("Cancel"))
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda _result: self._answered(box, box.clickedButton() is go_button))
        self.dialog = box
        box.open()

    def _answered(self, box: QMessageBox, go: bool) -> None:
        if self.dialog is box:
            self.dialog = None
        box.deleteLater()
        self._finish(go)

    def _finish(self, go: bool) -> None:
        then, self._then = self._then, None
        if then is not None:
            (then[0] if go else then[1])()

    def close(self) -> None:
        """Join a check still running (the window is closing); its answer is dropped."""
        thread, self._thread = self._thread, None
        self._then = None
        self._closing.set()
        if thread is not None:
            thread.join()
        if self.dialog is not None:
            self.dialog.reject()
