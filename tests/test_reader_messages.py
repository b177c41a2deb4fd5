"""What the CSV reader says about awkward files: each message true to the file, on the line that causes it.

Doubled "\\r\\r\\n" endings (csv.writer in text mode on Windows) lose nothing and are not "blank lines"; an
unterminated quote is named where it opened, not where the CSV finally breaks; an overlong line without a
quote is not blamed on one; a row with more fields than the header is skipped, counted and located; a raw
own-catalog folder given to --data says how to import it.
"""

from __future__ import annotations

import csv
import io

import pytest
from cli_runner import run_cli
from test_dataset_reader import PRIOR, assert_names, error_of, path_mode  # noqa: F401  (path_mode: fixture)
from test_own_catalog import STORE, write_store

from themepage.dataset import read_dataset
from themepage.dataset.csvio import Column, line_of_row, read_columns
from themepage.dataset.csvlines import MAX_LINE_CHARS
from themepage.dataset.errors import SkipLog
from themepage.dataset.own_catalog import read_own_catalog


def windows_text_mode(text: str) -> str:
    """What csv.writer (lineterminator "\\r\\n") writes through a Windows text-mode file: "\\n" -> "\\r\\n"."""
    return text.replace("\n", "\r\n")


def rewrite_doubled(path) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # "\r\n" after every row, as on any platform
    path.write_bytes(windows_text_mode(buffer.getvalue()).encode())


def test_doubled_line_endings_skip_nothing(tiny_data_dir, path_mode):
    plain = read_dataset(tiny_data_dir)
    for path in tiny_data_dir.glob("*.csv"):
        rewrite_doubled(path)
    assert (tiny_data_dir / PRIOR).read_bytes().count(b"\r\r\n") > 3
    doubled = read_dataset(tiny_data_dir)
    assert doubled.skipped == () and len(doubled.prior) == len(plain.prior)
    assert doubled.catalog.names == plain.catalog.names


def test_doubled_line_endings_count_one_line_per_row(tiny_data_dir, path_mode):
    path = tiny_data_dir / PRIOR
    rewrite_doubled(path)
    lines = path.read_bytes().split(b"\r\r\n")
    lines[4] = lines[4].replace(b",", b",x", 1)  # the fifth line as an editor that shows rows counts them
    path.write_bytes(b"\r\r\n".join(lines))
    assert_names(error_of(tiny_data_dir), PRIOR, 5, "product_id")


def test_a_quoted_field_of_a_doubled_file_keeps_its_line_break(tmp_path):
    path = tmp_path / "names.csv"
    path.write_bytes(windows_text_mode('id,name\r\n1,"two\r\nlines"\r\n2,plain\r\n').encode())
    skips = SkipLog()
    columns = read_columns(path, [Column("id"), Column("name", text=True)], skips)
    assert columns["name"] == ["two\r\nlines", "plain"] and skips.messages() == []
    assert line_of_row(path, 1) == 4


def test_an_unterminated_quote_is_named_where_it_opened_not_where_the_csv_breaks(tiny_data_dir):
    """The runaway field swallows lines until a later quoted field: still line 5, where it opened."""
    path = tiny_data_dir / "products.csv"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace(",", ',"', 1)  # an opening quote on line 5 that never closes
    lines += [f'{100 + i},"Quoted, Name {i}",1,1' for i in range(25)]  # the CSV breaks at the first of these
    path.write_text("\n".join(lines) + "\n")
    message = error_of(tiny_data_dir)
    assert_names(message, "products.csv", 5)
    assert "unterminated quote" in message and f"runs on to line {len(lines) - 24}" in message


def test_an_overlong_line_without_a_quote_is_not_blamed_on_a_quote(tiny_data_dir, path_mode):
    path = tiny_data_dir / PRIOR
    lines = path.read_text().splitlines()
    lines[2] = "10," + "1" * (MAX_LINE_CHARS + 10) + ",1,0"
    path.write_text("\n".join(lines) + "\n")
    message = error_of(tiny_data_dir)
    assert_names(message, PRIOR, 3)
    assert "quote" not in message and "longer than the reader's limit" in message


def test_an_overlong_line_with_no_line_break_at_all_is_refused(tmp_path, path_mode):
    """The line is never held whole: the reader stops at its limit."""
    path = tmp_path / "one.csv"
    path.write_bytes(b"id,name\n1,a\n2," + b"x" * (3 * MAX_LINE_CHARS))
    for columns in ([Column("id")], [Column("id"), Column("name", text=True)]):
        with pytest.raises(Exception, match="one.csv line 3: line is longer than the reader's limit"):
            read_columns(path, columns, SkipLog())


def test_an_overlong_field_without_a_quote_says_so(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("id,name\n1,a\n2," + "x" * (csv.field_size_limit() + 1) + "\n")
    with pytest.raises(Exception, match="names.csv line 3: a field on this line is longer") as error:
        read_columns(path, [Column("id"), Column("name", text=True)], SkipLog())
    assert "quote" not in str(error.value)


def test_rows_with_extra_fields_are_skipped_counted_and_located(tiny_data_dir, path_mode):
    path = tiny_data_dir / PRIOR
    lines = path.read_text().splitlines()
    total = len(lines) - 1
    lines[3] += ",surplus"
    lines[6] += ",1,2"
    path.write_text("\n".join(lines) + "\n")
    dataset = read_dataset(tiny_data_dir)
    assert len(dataset.prior) == total - 2
    assert f"{PRIOR}: skipped 2 row(s): more fields than the header's 4 (first on line 4)" in dataset.skipped


def test_an_unquoted_comma_in_a_product_name_is_not_read_into_the_wrong_columns(tmp_path):
    files = dict(STORE)
    files["products.csv"] = files["products.csv"].replace("Claw Hammer,", "Claw Hammer, 16 oz,")
    files["order_items.csv"] = "order_id,product_id\n" + "\n".join(
        line for line in STORE["order_items.csv"].splitlines()[1:] if not line.endswith(",10"))
    dataset = read_own_catalog(write_store(tmp_path / "store", files))
    assert 10 not in dataset.catalog.product_ids.tolist()
    assert "products.csv: skipped 1 row(s): more fields than the header's 5 (first on line 2)" in dataset.skipped


def test_data_on_a_raw_own_catalog_folder_says_to_import_it(monkeypatch, capsys, tmp_path):
    store = write_store(tmp_path / "store")
    code, out, err = run_cli(monkeypatch, capsys, "data", "check", "--data", str(store))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "aisles.csv" not in err and f"themepage data import {store} --out DIR" in err
