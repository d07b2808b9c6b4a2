"""CSV import and export of a catalogue, for the shop's spreadsheet.

One row per product. ``selling_points`` holds one point per line of the cell; ``faq`` one entry
per line as ``[id] question => answer`` (the ``[id]`` may be left out). Export writes UTF-8 with a
BOM, so Excel opens Chinese text right; import also reads GB18030, which Chinese Excel saves.
Cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are written
with a leading ``'`` and read back without it. A bad row is reported with its line and reason and
skipped; the file as a whole is refused only when it cannot be a catalogue (no name/price
columns, too large, not text).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from studio.catalogue.model import Catalogue, FaqEntry, Product

COLUMNS = ("id", "name", "price", "original_price", "image", "stock", "link", "selling_points", "faq")
REQUIRED = ("name", "price")
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 10_000
MAX_CELL = 64 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FAQ_LINE = re.compile(r"^\s*(?:\[(?P<id>[^\]]*)\])?\s*(?P<q>.*?)\s*=>\s*(?P<a>.*)$")


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line of the row in the file (the header is line 1)
    message: str

    def describe(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class CsvImport:
    products: list[Product] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def escape_cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unescape_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _faq_cell(product: Product) -> str:
    return "\n".join(f"[{e.id}] {e.question} => {e.answer}" for e in product.faq)


def export_csv(catalogue: Catalogue, path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in catalogue.products:
        cells = [p.id, p.name, f"{p.price:g}", f"{p.original_price:g}", p.image, str(p.stock), p.link,
                 "\n".join(p.selling_points), _faq_cell(p)]
        writer.writerow([escape_cell(c) for c in cells])
    Path(path).write_bytes(buf.getvalue().encode("utf-8-sig"))


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("is neither UTF-8 nor GB18030 text")


def _number(what: str, text: str) -> float:
    cleaned = text.replace(",", "").replace("，", "").strip().lstrip("¥￥$").strip()
    if not cleaned:
        return 0.0
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"{what} {text[:30]!r} is not a number") from None


def _whole(what: str, text: str) -> int:
    value = _number(what, text)
    if value != int(value):
        raise ValueError(f"{what} {text[:30]!r} is not a whole number")
    return int(value)


def _faq(text: str) -> tuple[FaqEntry, ...]:
    entries: list[FaqEntry] = []
    for n, line in enumerate(s for s in text.splitlines() if s.strip()):
        m = _FAQ_LINE.match(line)
        if m is None:
            raise ValueError(f"FAQ line {n + 1} {line[:30]!r} has no ' => ' between question and answer")
        entries.append(FaqEntry(m["id"].strip() if m["id"] else f"faq-{n + 1}", m["q"], m["a"]))
    return tuple(entries)


def _row_product(row: dict[str, str], catalogue: Catalogue | None, taken: set[str]) -> Product:
    cell = {k: unescape_cell((row.get(k) or "").strip()) for k in COLUMNS}
    if any(len(v) > MAX_CELL for v in cell.values()):
        raise ValueError(f"a cell is longer than {MAX_CELL} characters")
    pid = cell["id"]
    if not pid:
        base = catalogue.new_id() if catalogue is not None else "product"
        pid, n = base, 2
        while pid in taken:
            pid, n = f"{base}-{n}", n + 1
    return Product(
        pid, cell["name"], _number("price", cell["price"]), _number("original price", cell["original_price"]),
        cell["image"], _whole("stock", cell["stock"]), cell["link"],
        tuple(p.strip() for p in cell["selling_points"].splitlines() if p.strip()), _faq(cell["faq"]),
    )


def read_csv(path: Path, catalogue: Catalogue | None = None) -> CsvImport:
    """Parse a catalogue CSV: the good products and one error per bad row. ValueError when the file
    as a whole cannot be read as a catalogue."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(f"{path}: {size / 1e6:.0f} MB is larger than {MAX_BYTES // 2**20} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = _decode(raw)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ValueError(f"{path}: not a CSV file ({exc})") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (columns: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    result = CsvImport()
    taken: set[str] = set()
    rows = 0
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's size limit
            result.errors.append(RowError(line, f"unreadable row ({exc})"))
            break  # the reader cannot resynchronise after a broken quote
        rows += 1
        if rows > MAX_ROWS:
            result.errors.append(RowError(line, f"more than {MAX_ROWS} rows: the rest is not read"))
            break
        if None in row:  # more cells than columns
            result.errors.append(RowError(line, "more cells than the header has columns"))
            continue
        try:
            product = _row_product(row, catalogue, taken)
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc)))
            continue
        if product.id in taken:
            result.errors.append(RowError(line, f"product id {product.id!r} is used by an earlier row"))
            continue
        taken.add(product.id)
        result.products.append(product)
    return result


def import_csv(path: Path, catalogue: Catalogue) -> CsvImport:
    """Merge a CSV into ``catalogue``: a row with a known id replaces that product, others are
    added. Bad rows change nothing and are listed in the result's errors."""
    result = read_csv(path, catalogue)
    merged = {p.id: p for p in catalogue.products}
    for p in result.products:
        merged[p.id] = p
    catalogue.set_products(merged.values())
    return result
