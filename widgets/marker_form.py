"""The marker edit form of the cut preview: a marker's time, kind and details, validated.

It edits the segment through its own setters (``replace_marker``; a change of kind swaps the marker
for a new one at the same time) and reloads from the rundown's events, so what it shows is always
what the model holds. The markers' own constructors validate; a refused edit is shown under the
form and changes nothing.

What each kind links to: a product moment, the product card source it shows (and the scene it is
in, and for how long) and the catalogue product it shows (none: whatever the card holds); a vote point, its question (the label viewers read) and options; a branch
point, the vote point whose poll decides it and the segment each option goes to.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.rundown.markers import (
    MARKER_KINDS,
    BranchPoint,
    Marker,
    MarkerKind,
    ProductMoment,
    VotePoint,
    new_marker_id,
)
from studio.rundown.model import Rundown, Segment
from widgets.i18n import tr

KIND_NAMES: dict[str, str] = {"product": "Product moment", "vote": "Vote point", "branch": "Branch point"}
OPTION_SEPARATOR = "|"


def _seconds(parent: QWidget, top: float = 36_000.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setDecimals(3)
    box.setRange(0.0, top)
    box.setSuffix(" s")
    return box


def split_list(text: str) -> tuple[str, ...]:
    """"A | B | C" -> ("A", "B", "C"); the markers' constructors validate what comes out."""
    return tuple(part.strip() for part in text.split(OPTION_SEPARATOR))


class MarkerForm(QWidget):
    applied = Signal(str)  # the marker id now in the segment (a new id when the kind changed)

    def __init__(self, rundown: Rundown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rundown = rundown
        self.segment: Segment | None = None
        self.marker_id: str | None = None
        self.time = _seconds(self)
        self.kind = QComboBox(self)
        for kind in MARKER_KINDS:
            self.kind.addItem(tr(KIND_NAMES[kind]), kind)
        self.pages = QStackedWidget(self)
        self.kind.currentIndexChanged.connect(lambda _i: self.pages.setCurrentIndex(self.kind.currentIndex()))
        product = QWidget(self.pages)
        pf = QFormLayout(product)
        self.product_source = QComboBox(product)
        self.product_source.setEditable(True)
        self.product_id = QComboBox(product)
        self.product_id.setEditable(True)  # a catalogue product id; empty = what the card shows
        self.product_scene = QLineEdit(product)
        self.product_scene.setText(rundown.drama_scene if rundown is not None else "")
        self.product_duration = _seconds(product, 600.0)
        self.product_duration.setValue(8.0)  # the defaults a marker changed to this kind starts from
        pf.addRow(tr("Product card"), self.product_source)
        pf.addRow(tr("Product"), self.product_id)
        pf.addRow(tr("Scene"), self.product_scene)
        pf.addRow(tr("Shown for"), self.product_duration)
        vote = QWidget(self.pages)
        vf = QFormLayout(vote)
        self.vote_question = QLineEdit(vote)
        self.vote_options = QLineEdit(vote)
        self.vote_options.setPlaceholderText("A | B")
        self.vote_duration = _seconds(vote, 3600.0)
        self.vote_duration.setValue(30.0)
        self.vote_default = QSpinBox(vote)
        self.vote_default.setRange(1, 10)
        vf.addRow(tr("Label (question)"), self.vote_question)
        vf.addRow(tr("Options"), self.vote_options)
        vf.addRow(tr("Open for"), self.vote_duration)
        vf.addRow(tr("Default option"), self.vote_default)
        branch = QWidget(self.pages)
        bf = QFormLayout(branch)
        self.branch_vote = QComboBox(branch)
        self.branch_targets = QLineEdit(branch)
        self.branch_targets.setPlaceholderText("segment-a | segment-b")
        bf.addRow(tr("Decided by poll"), self.branch_vote)
        bf.addRow(tr("Goes to (per option)"), self.branch_targets)
        for page in (product, vote, branch):
            self.pages.addWidget(page)

        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.apply_button = QPushButton(tr("Apply"), self)
        self.apply_button.clicked.connect(lambda _=False: self.apply())
        self.delete_button = QPushButton(tr("Delete marker"), self)
        self.delete_button.clicked.connect(lambda _=False: self.delete())

        top = QFormLayout()
        top.addRow(tr("Time"), self.time)
        top.addRow(tr("Kind"), self.kind)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.pages)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.load(None, None)

    # ---- model -> form --------------------------------------------------------------------------
    def set_product_sources(self, names: Sequence[str]) -> None:
        current = self.product_source.currentText()
        self.product_source.clear()
        self.product_source.addItems(list(names))
        self.product_source.setEditText(current)

    def set_products(self, products: Sequence[tuple[str, str]]) -> None:
        """The catalogue's (id, name) pairs offered for a product moment."""
        current = self.product_text()
        self.product_id.clear()
        for product_id, name in products:
            self.product_id.addItem(f"{product_id} · {name}" if name else product_id, product_id)
        self._show_product(current)

    def product_text(self) -> str:
        """The chosen product id: a listed product's id, else what was typed."""
        text = self.product_id.currentText().strip()
        index = self.product_id.currentIndex()
        if index >= 0 and text == self.product_id.itemText(index):
            return str(self.product_id.itemData(index))
        return text

    def _show_product(self, product_id: str) -> None:
        index = self.product_id.findData(product_id) if product_id else -1
        if index >= 0:
            self.product_id.setCurrentIndex(index)
        else:
            self.product_id.setCurrentIndex(-1)
            self.product_id.setEditText(product_id)

    def load(self, segment: Segment | None, marker_id: str | None) -> None:
        """Show ``marker_id`` of ``segment`` (None: an empty, disabled form)."""
        self.segment, self.marker_id = segment, marker_id
        marker = self.marker()
        self.setEnabled(marker is not None)
        self.error.clear()
        self._fill_votes()
        if marker is None:
            return
        self.time.setValue(marker.at_s)
        self.kind.setCurrentIndex(MARKER_KINDS.index(marker.kind))
        if isinstance(marker, ProductMoment):
            self.product_source.setEditText(marker.source)
            self.product_scene.setText(marker.scene)
            self._show_product(marker.product)
            self.product_duration.setValue(marker.duration_s)
        elif isinstance(marker, VotePoint):
            self.vote_question.setText(marker.question)
            self.vote_options.setText(f" {OPTION_SEPARATOR} ".join(marker.options))
            self.vote_duration.setValue(marker.duration_s)
            self.vote_default.setValue(marker.default_option + 1)
        else:
            self.branch_vote.setCurrentIndex(max(0, self.branch_vote.findData(marker.vote)))
            self.branch_targets.setText(f" {OPTION_SEPARATOR} ".join(marker.targets))

    def reload(self) -> None:
        """The rundown changed: show the model's values (the marker may be gone)."""
        if self.segment is not None and self.marker() is None:
            self.load(self.segment, None)
        else:
            self.load(self.segment, self.marker_id)

    def marker(self) -> Marker | None:
        if self.segment is None or self.marker_id is None:
            return None
        try:
            return self.segment.marker(self.marker_id)
        except ValueError:
            return None

    def _fill_votes(self) -> None:
        self.branch_vote.clear()
        if self.segment is None:
            return
        for m in self.segment.markers:
            if isinstance(m, VotePoint):
                self.branch_vote.addItem(f"{m.question} ({m.at_s:.2f} s)", m.id)

    # ---- form -> model ----------------------------------------------------------------------------
    def built(self) -> Marker:
        """The marker the form describes; ValueError (from the marker's own checks) when it is not valid."""
        old = self.marker()
        if old is None:
            raise ValueError(tr("no marker is selected"))
        kind: MarkerKind = self.kind.currentData()
        marker_id = old.id if kind == old.kind else new_marker_id(kind)  # a new kind is a new marker
        at = self.time.value()
        if kind == "product":
            return ProductMoment(at, self.product_scene.text(), self.product_source.currentText(),
                                 self.product_duration.value(), id=marker_id, product=self.product_text())
        if kind == "vote":
            tie = old.tie_rule if isinstance(old, VotePoint) else "default"
            return VotePoint(at, self.vote_question.text(), split_list(self.vote_options.text()),
                             self.vote_duration.value(), tie, self.vote_default.value() - 1, id=marker_id)
        vote = self.branch_vote.currentData()
        if not isinstance(vote, str):
            raise ValueError(tr("a branch point needs a vote point in this segment to decide it"))
        return BranchPoint(at, vote, split_list(self.branch_targets.text()), id=marker_id)

    def apply(self) -> bool:
        """Put the form's marker into the segment; False (and the reason shown) when refused."""
        seg, old = self.segment, self.marker()
        if seg is None or old is None:
            return False
        try:
            new = self.built()
            self._check_targets(new)
            if new.id == old.id:
                seg.replace_marker(new)
            else:
                self._swap(seg, old, new)
        except ValueError as exc:
            self.error.setText(str(exc))
            return False
        self.marker_id = new.id
        self.reload()
        self.applied.emit(new.id)
        return True

    def _check_targets(self, marker: Marker) -> None:
        if isinstance(marker, BranchPoint) and self.rundown is not None:
            for target in marker.targets:
                self.rundown.segment(target)  # ValueError names a segment that does not exist

    def _swap(self, seg: Segment, old: Marker, new: Marker) -> None:
        # a new kind: the old marker goes and the new one comes, or neither
        seg.remove_marker(old.id)
        try:
            seg.add_marker(new)
        except ValueError:
            seg.add_marker(old)
            raise

    def delete(self) -> None:
        seg, old = self.segment, self.marker()
        if seg is None or old is None:
            return
        seg.remove_marker(old.id)
        if self.marker_id == old.id:  # nobody moved the form on to another marker yet
            self.load(seg, None)
