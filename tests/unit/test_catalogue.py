"""The product catalogue: validated products, JSON persistence with a .bak, CSV import/export
(Excel's BOM, GB18030, formula injection, hostile rows) and advertising-law warnings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from studio.catalogue.csv_io import COLUMNS, MAX_BYTES, escape_cell, export_csv, import_csv, read_csv
from studio.catalogue.demo import BAG, LIPSTICK, demo_catalogue
from studio.catalogue.model import Catalogue, CatalogueChanged, FaqEntry, Product
from studio.catalogue.persistence import load_catalogue, save_catalogue
from studio.storage import DamagedFileError, backup_path


def lipstick(**changes: object) -> Product:
    p = Product("lip-1", "丝绒口红", 129, 199, "", 10, "https://shop.example.com/1", ("显色",),
                (FaqEntry("price", "多少钱", "129元"),))
    return p.replace(**changes) if changes else p


@pytest.mark.parametrize(("field", "value", "message"), [
    ("id", "has space", "product id"),
    ("name", "  ", "name: must not be empty"),
    ("price", -1, "price: -1 is outside"),
    ("price", float("nan"), "price: expected a number"),
    ("price", "12", "price: expected a number"),
    ("original_price", True, "original price: expected a number"),
    ("stock", 1.5, "stock: expected a whole number"),
    ("link", "javascript:alert(1)", "must be an http(s):// address"),
    ("selling_points", "one text", "expected a list of texts"),
    ("faq", (FaqEntry("a", "q", "x"), FaqEntry("a", "q2", "y")), "'a' is used twice"),
])
def test_bad_fields_are_refused_with_clear_messages(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lipstick(**{field: value})


def test_faq_answer_fits_an_announcement() -> None:
    with pytest.raises(ValueError, match="longer than 200"):
        FaqEntry("x", "q", "好" * 201)


def test_catalogue_edits_emit_and_validate() -> None:
    cat = Catalogue()
    seen: list[CatalogueChanged] = []
    cat.changed.connect(seen.append)
    cat.add(lipstick())
    with pytest.raises(ValueError, match="already in the catalogue"):
        cat.add(lipstick())
    cat.update("lip-1", price=99)
    assert cat.product("lip-1").price == 99
    with pytest.raises(ValueError, match="id cannot change"):
        cat.update("lip-1", id="other")
    with pytest.raises(ValueError, match="outside"):
        cat.update("lip-1", price=-5)
    assert cat.product("lip-1").price == 99  # a refused edit changes nothing
    cat.remove("lip-1")
    assert [c.kind for c in seen] == ["added", "replaced", "removed"]
    assert cat.new_id("lip") == "lip"


def test_every_text_goes_through_the_advertising_law_check() -> None:
    cat = Catalogue()
    cat.add(lipstick(name="全网最低价口红", selling_points=("销量第一",),
                     faq=(FaqEntry("x", "是不是最好的", "绝对正品"),)))
    fields = {(w.field, w.warning.word) for w in cat.warnings("lip-1")}
    assert ("name", "全网最低") in fields
    assert ("selling point 1", "销量第一") in fields
    assert ("FAQ x question", "最") in fields
    assert ("FAQ x answer", "绝对") in fields
    assert all("lip-1" in w.describe() for w in cat.warnings())
    assert demo_catalogue().warnings() == []  # the demo's own texts are clean


def test_json_round_trip_with_relative_images_and_backup(tmp_path: Path) -> None:
    image = tmp_path / "img" / "lip.png"
    cat = demo_catalogue({"lipstick": image})
    path = tmp_path / "catalogue.json"
    save_catalogue(cat, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and data["products"][0]["image"] == "img/lip.png"
    loaded = load_catalogue(path)
    assert loaded.products == cat.products
    assert backup_path(path).exists()  # the file that just loaded is the known-good copy
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(DamagedFileError, match="not valid JSON") as info:
        load_catalogue(path)
    assert info.value.backup == backup_path(path)


def test_newer_or_foreign_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"schema_version": 99, "products": []}), encoding="utf-8")
    with pytest.raises(DamagedFileError, match="newer"):
        load_catalogue(path)
    path.write_text(json.dumps({"schema_version": 1, "products": [{"id": "a", "name": "x", "price": -3}]}))
    with pytest.raises(DamagedFileError, match="product 1: product a price"):
        load_catalogue(path)


def test_csv_round_trip_keeps_everything(tmp_path: Path) -> None:
    cat = demo_catalogue()
    path = tmp_path / "products.csv"
    export_csv(cat, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with a BOM
    back = Catalogue()
    result = import_csv(path, back)
    assert result.errors == []
    assert back.products == cat.products
    assert back.product(LIPSTICK).faq == cat.product(LIPSTICK).faq and back.get(BAG) is not None


def test_formula_injection_is_escaped_on_export_and_undone_on_import(tmp_path: Path) -> None:
    cat = Catalogue()
    cat.add(lipstick(name="=cmd|' /C calc'!A0", selling_points=("+1 好用", "@SUM(1)", "-2 折")))
    path = tmp_path / "out.csv"
    export_csv(cat, path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in rows[1])
    assert rows[1][7].startswith("'+1")
    back = Catalogue()
    import_csv(path, back)
    assert back.product("lip-1").name == "=cmd|' /C calc'!A0"
    assert escape_cell("普通") == "普通"


def _write(path: Path, rows: list[list[str]], header: tuple[str, ...] = COLUMNS, encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([list(header), *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_hostile_rows_are_reported_per_line_and_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", [
        ["a", "好口红", "¥1,299", "0", "", "5", "", "", "[price] 多少钱 => 1299元"],
        ["b", "坏价格", "abc", "", "", "", "", "", ""],
        ["c", "负价格", "-5", "", "", "", "", "", ""],
        ["d", "", "10", "", "", "", "", "", ""],
        ["e", "半件", "10", "", "", "1.5", "", "", ""],
        ["f", "坏问答", "10", "", "", "", "", "", "没有箭头的一行"],
        ["a", "重复", "10", "", "", "", "", "", ""],
        ["g", "太多", "10", "", "", "", "", "", "", "extra"],
    ])
    cat = Catalogue()
    result = import_csv(path, cat)
    assert [p.id for p in cat.products] == ["a"]
    assert cat.product("a").price == 1299 and cat.product("a").faq[0].answer == "1299元"
    by_line = {e.line: e.message for e in result.errors}
    assert "price 'abc' is not a number" in by_line[3]
    assert "outside" in by_line[4]
    assert "name: must not be empty" in by_line[5]
    assert "not a whole number" in by_line[6]
    assert "no ' => '" in by_line[7]
    assert "used by an earlier row" in by_line[8]
    assert "more cells" in by_line[9]
    assert all(e.describe().startswith("line ") for e in result.errors)


def test_missing_columns_and_unreadable_files_refuse_the_whole_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing column\\(s\\) price"):
        read_csv(_write(tmp_path / "a.csv", [["x", "口红"]], header=("id", "name")))
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(ValueError, match="neither UTF-8 nor GB18030"):
        read_csv(binary)
    with pytest.raises(ValueError, match="cannot be read"):
        read_csv(tmp_path / "missing.csv")


def test_huge_files_and_cells_do_not_hang_or_crash(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(ValueError, match="larger than"):
        read_csv(big)
    # one cell over the csv module's field limit: that row is an error, the rows before it load
    huge = _write(tmp_path / "cell.csv", [["a", "好", "1", "", "", "", "", "", ""],
                                          ["b", "x" * 200_000, "1", "", "", "", "", "", ""]])
    result = read_csv(huge)
    assert [p.id for p in result.products] == ["a"] and "unreadable row" in result.errors[0].message


def test_excel_gb18030_files_and_missing_ids(tmp_path: Path) -> None:
    path = _write(tmp_path / "gbk.csv", [["", "真皮包", "299", "459", "", "3", "", "耐用\n轻", ""]],
                  header=("ID", "Name", "Price", "original_price", "image", "stock", "link", "selling_points", "faq"),
                  encoding="gb18030")
    result = read_csv(path, Catalogue())
    assert result.errors == []
    [p] = result.products
    assert (p.id, p.name, p.price, p.original_price, p.selling_points) == ("product", "真皮包", 299, 459, ("耐用", "轻"))
