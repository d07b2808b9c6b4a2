"""The product catalogue editor: the products on the left, the selected one's fields, selling
points and FAQ on the right, its advertising-law warnings under them; Apply validates through the
model (a refused edit says why and changes nothing); CSV import/export for the shop's sheet.

It binds to ``studio.catalogue.model.Catalogue``: every change goes through the model, and the
list follows the model's ``changed`` events (queued to the UI thread). All text is plain.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.catalogue.csv_io import export_csv, import_csv
from studio.catalogue.model import MAX_PRICE, MAX_STOCK, Catalogue, CatalogueChanged, FaqEntry, Product
from studio.catalogue.persistence import save_catalogue
from widgets.i18n import bind, on_change, tr
from widgets.plain_text import tooltip

FAQ_COLUMNS = ("Id", "Question", "Answer")


class CatalogueBridge(QObject):
    changed = Signal(object)  # CatalogueChanged

    def __init__(self, catalogue: Catalogue, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._disconnect: Callable[[], None] | None = catalogue.changed.connect(self.changed.emit)

    def close(self) -> None:
        if self._disconnect is not None:
            self._disconnect()
            self._disconnect = None


def _line(parent: QWidget) -> QLineEdit:
    return QLineEdit(parent)


class CatalogueEditor(QWidget):
    def __init__(self, catalogue: Catalogue, path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("catalogueEditor")
        self.catalogue = catalogue
        self.path = path  # where Save writes (None: no file)
        self.list = QListWidget(self)
        self.list.currentRowChanged.connect(lambda _r: self._show_selected())
        self.id_label = QLabel(self)
        self.id_label.setTextFormat(Qt.TextFormat.PlainText)
        self.name = _line(self)
        self.price = QDoubleSpinBox(self)
        self.original = QDoubleSpinBox(self)
        for box in (self.price, self.original):
            box.setRange(0, MAX_PRICE)
            box.setDecimals(2)
            box.setPrefix("¥")
        self.stock = QSpinBox(self)
        self.stock.setRange(0, min(MAX_STOCK, 2**31 - 1))
        self.image = _line(self)
        self.link = _line(self)
        self.points = QPlainTextEdit(self)
        self.points.setMaximumHeight(70)
        bind(self.points, "setPlaceholderText", "One selling point per line")
        self.faq = QTableWidget(0, len(FAQ_COLUMNS), self)
        on_change(self, lambda: self.faq.setHorizontalHeaderLabels([tr(c) for c in FAQ_COLUMNS]))
        self.faq.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.faq.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.warnings = QListWidget(self)
        self.warnings.setObjectName("catalogueWarnings")
        self.warnings.setMaximumHeight(80)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)

        form = QFormLayout()
        for label, widget in (("Id", self.id_label), ("Name", self.name), ("Price", self.price),
                              ("Original price", self.original), ("Stock", self.stock), ("Image", self.image),
                              ("Link", self.link), ("Selling points", self.points)):
            text = QLabel(self)
            bind(text, "setText", label)
            form.addRow(text, widget)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, label, slot in (("add", "Add product", self.add_product), ("remove", "Remove", self.remove_selected),
                                 ("add_faq", "Add FAQ", self._add_faq_row), ("apply", "Apply", self.apply),
                                 ("import", "Import CSV…", self._import_dialog),
                                 ("export", "Export CSV…", self._export_dialog), ("save", "Save", self.save)):
            button = QPushButton(self)
            bind(button, "setText", label)
            button.clicked.connect(lambda _=False, slot=slot: slot())
            buttons.addWidget(button)
            self.buttons[key] = button
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.faq, 1)
        right.addWidget(self.warnings)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

        self.bridge = CatalogueBridge(catalogue, self)
        self.bridge.changed.connect(self._on_changed)
        self._fill_list()

    def close_bridge(self) -> None:
        self.bridge.close()

    # ---- the list ----

    def _fill_list(self, select: str | None = None) -> None:
        select = select or self.selected_id()
        self.list.blockSignals(True)
        self.list.clear()
        for p in self.catalogue.products:
            item = QListWidgetItem(p.name)
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            item.setToolTip(tooltip(p.id))
            if self.catalogue.warnings(p.id):
                item.setText(f"⚠ {p.name}")
            self.list.addItem(item)
        ids = self.catalogue.ids()
        self.list.setCurrentRow(ids.index(select) if select in ids else (0 if ids else -1))
        self.list.blockSignals(False)
        self._show_selected()

    def _on_changed(self, change: CatalogueChanged) -> None:
        self._fill_list(change.product or None)

    def selected_id(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _show_selected(self) -> None:
        pid = self.selected_id()
        product = self.catalogue.get(pid) if pid else None
        enabled = product is not None
        for widget in (self.name, self.price, self.original, self.stock, self.image, self.link, self.points, self.faq):
            widget.setEnabled(enabled)
        self.warnings.clear()
        if product is None:
            self.id_label.setText("")
            self.faq.setRowCount(0)
            return
        self.id_label.setText(product.id)
        self.name.setText(product.name)
        self.price.setValue(product.price)
        self.original.setValue(product.original_price)
        self.stock.setValue(min(product.stock, self.stock.maximum()))
        self.image.setText(product.image)
        self.link.setText(product.link)
        self.points.setPlainText("\n".join(product.selling_points))
        self.faq.setRowCount(0)
        for e in product.faq:
            self._add_faq_row(e)
        for w in self.catalogue.warnings(product.id):
            self.warnings.addItem(f"{w.field}: {tr('extreme word')} “{w.warning.word}”")

    def _add_faq_row(self, entry: FaqEntry | None = None) -> None:
        row = self.faq.rowCount()
        self.faq.insertRow(row)
        values = (entry.id, entry.question, entry.answer) if entry else (f"faq-{row + 1}", "", "")
        for col, text in enumerate(values):
            self.faq.setItem(row, col, QTableWidgetItem(text))

    # ---- editing through the model ----

    def edited_product(self) -> Product:
        """The product as the form shows it (ValueError when a field is not valid)."""
        pid = self.selected_id()
        if pid is None:
            raise ValueError(tr("no product selected"))
        faq = []
        for row in range(self.faq.rowCount()):
            cells = [(item.text() if (item := self.faq.item(row, c)) is not None else "") for c in range(3)]
            if cells[1].strip() or cells[2].strip():
                faq.append(FaqEntry(*cells))
        points = tuple(p.strip() for p in self.points.toPlainText().splitlines() if p.strip())
        return Product(pid, self.name.text(), self.price.value(), self.original.value(), self.image.text(),
                       self.stock.value(), self.link.text(), points, tuple(faq))

    def apply(self) -> bool:
        try:
            self.catalogue.replace(self.edited_product())
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        warnings = self.catalogue.warnings(self.selected_id())
        self.status.setText(tr("Saved in the catalogue") + (f" · {len(warnings)} {tr('advertising-law warnings')}"
                                                             if warnings else ""))
        return True

    def add_product(self) -> None:
        pid = self.catalogue.new_id("product")
        self.catalogue.add(Product(pid, tr("New product"), 0.0))
        self._fill_list(pid)

    def remove_selected(self) -> None:
        pid = self.selected_id()
        if pid is not None:
            self.catalogue.remove(pid)

    def save(self) -> None:
        if self.path is None:
            self.status.setText(tr("This catalogue has no file"))
            return
        try:
            save_catalogue(self.catalogue, self.path)
        except OSError as exc:
            self.status.setText(f"{self.path}: {exc.strerror or exc}")
            return
        self.status.setText(tr("Saved to {path}").format(path=self.path))

    def import_file(self, path: Path) -> list[str]:
        """Merge a CSV; the bad rows are listed in the status (and returned)."""
        try:
            result = import_csv(path, self.catalogue)
        except ValueError as exc:
            self.status.setText(str(exc))
            return [str(exc)]
        problems = [e.describe() for e in result.errors]
        self.status.setText(tr("{n} products imported").format(n=len(result.products))
                            + ("\n" + "\n".join(problems[:10]) if problems else ""))
        return problems

    def export_file(self, path: Path) -> None:
        try:
            export_csv(self.catalogue, path)
        except OSError as exc:
            self.status.setText(f"{path}: {exc.strerror or exc}")
            return
        self.status.setText(tr("Saved to {path}").format(path=path))

    def _import_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, tr("Import CSV…"), "", "CSV (*.csv)")
        if name:
            self.import_file(Path(name))

    def _export_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Export CSV…"), "products.csv", "CSV (*.csv)")
        if name:
            self.export_file(Path(name))
