"""The Instacart reader: one hand-made bad input per error, skipped rows counted, the bundled data's counts."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from themepage.constants import BUNDLED_DATA_DIR
from themepage.dataset import DataError, Histories, Order, UserHistory, csvio, read_dataset
from themepage.dataset.errors import SkipLog

PRIOR = "order_products__prior.csv"
TRAIN = "order_products__train.csv"


@pytest.fixture(params=["fast", "slow", "tiny-chunks"])
def path_mode(request, monkeypatch):
    """Run each case through the vectorised path, the row-by-row path, and chunk-by-chunk fallback."""
    if request.param == "slow":
        monkeypatch.setattr(csvio, "Chunk", lambda data, n_fields: SimpleNamespace(ok=False))
    elif request.param == "tiny-chunks":
        monkeypatch.setattr(csvio, "CHUNK_BYTES", 7)
    return request.param


def set_line(path: Path, line: int, text: str | None) -> None:
    """Replace physical line `line` (1-based) of `path` (None deletes it)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if text is None:
        del lines[line - 1]
    else:
        lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def insert_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(line - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def error_of(data_dir: Path) -> str:
    with pytest.raises(DataError) as caught:
        read_dataset(data_dir)
    message = str(caught.value)
    assert "\n" not in message, "a DataError is one line"
    return message


def assert_names(message: str, file: str, line: int | None = None, column: str | None = None) -> None:
    where = file if line is None else f"{file} line {line}"
    if column is not None:
        where += f", column {column}"
    assert message.startswith(where + ": "), message


# ----------------------------------------------------------------------------- the valid tiny dataset


def test_tiny_dataset_reads(tiny_data_dir, path_mode):
    d = read_dataset(tiny_data_dir)
    assert len(d.catalog) == 6 and d.catalog.name(2) == "Bread, white"
    assert d.catalog.aisle(4) == "fresh fruits" and d.catalog.department(6) == "dairy"
    assert d.orders.order_ids.tolist() == [10, 11, 12, 13, 14, 20, 21, 22, 23]
    assert d.orders.eval_sets.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert np.isnan(d.orders.days_since_prior[0]) and d.orders.days_since_prior[1] == 7.0
    assert (len(d.prior), len(d.train), len(d.baskets)) == (11, 2, 5)
    assert d.prior.product_ids.tolist() == [1, 2, 1, 3, 2, 3, 1, 4, 5, 4, 6]
    assert d.skipped == ()


# ----------------------------------------------------------------------------- one error per bad input


def test_missing_file(tiny_data_dir):
    (tiny_data_dir / "orders.csv").unlink()
    message = error_of(tiny_data_dir)
    assert_names(message, "orders.csv")
    assert "not found" in message


def test_missing_data_directory(tmp_path):
    assert "not found" in error_of(tmp_path / "nowhere")


def test_missing_data_directory_names_the_whole_path(tmp_path):
    missing = tmp_path / "foo" / "bar"
    assert error_of(missing) == f"{missing}: data directory not found"


def test_data_directory_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    assert error_of(tmp_path / "file") == f"{tmp_path / 'file'}: is not a regular file, not a data directory"


def _make_directory(path: Path) -> None:
    path.mkdir()


def _make_fifo(path: Path) -> None:
    os.mkfifo(path)


def _link_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _broken_link(path: Path) -> None:
    path.symlink_to(path.parent / "no-such-file.csv")


@pytest.mark.parametrize("make, kind", [(_make_directory, "a directory"), (_make_fifo, "a FIFO"),
                                        (_link_to_dev_zero, "a character device"), (_broken_link, "a broken link")])
@pytest.mark.parametrize("name", ["baskets.csv", "orders.csv"])
def test_a_data_file_that_is_not_a_regular_file_is_an_error(tiny_data_dir, make, kind, name):
    (tiny_data_dir / name).unlink()
    make(tiny_data_dir / name)
    message = error_of(tiny_data_dir)
    assert message.startswith(f"{name}: is {kind}"), message


def test_absent_optional_files_are_listed(tiny_data_dir):
    assert read_dataset(tiny_data_dir).absent == ()
    (tiny_data_dir / "baskets.csv").unlink()
    assert read_dataset(tiny_data_dir).absent == ("baskets.csv",)


@pytest.mark.parametrize("file, header, column", [
    ("orders.csv", "order_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order", "user_id"),
    (PRIOR, "order_id,add_to_cart_order,reordered", "product_id"),
    ("products.csv", "product_id,product_name,department_id", "aisle_id"),
])
def test_missing_column(tiny_data_dir, file, header, column):
    set_line(tiny_data_dir / file, 1, header)
    message = error_of(tiny_data_dir)
    assert_names(message, file, 1, column)
    assert "missing column" in message


@pytest.mark.parametrize("file, line, text, column, raw", [
    (PRIOR, 4, "x11,1,1,1", "order_id", "'x11'"),
    (PRIOR, 9, "20,4.0,1,0", "product_id", "'4.0'"),
    (TRAIN, 3, "14,,2,0", "product_id", "''"),
    ("orders.csv", 6, "14,one,train,5,5,13,7.0", "user_id", "'one'"),
    ("products.csv", 4, "3x,Eggs,1,1", "product_id", "'3x'"),
    ("baskets.csv", 6, "902,5,first,0", "add_to_cart_order", "'first'"),
])
def test_non_integer(tiny_data_dir, path_mode, file, line, text, column, raw):
    set_line(tiny_data_dir / file, line, text)
    message = error_of(tiny_data_dir)
    assert_names(message, file, line, column)
    assert f"{raw} is not an integer" in message


def test_unknown_product(tiny_data_dir, path_mode):
    set_line(tiny_data_dir / PRIOR, 4, "11,999999,1,1")
    assert error_of(tiny_data_dir) == f"{PRIOR} line 4, column product_id: product_id 999999 is not in products.csv"


def test_unknown_product_in_baskets(tiny_data_dir, path_mode):
    set_line(tiny_data_dir / "baskets.csv", 5, "901,7,2,0")
    assert error_of(tiny_data_dir) == "baskets.csv line 5, column product_id: product_id 7 is not in products.csv"


@pytest.mark.parametrize("file, line, text", [(PRIOR, 5, "77,3,2,0"), (TRAIN, 2, "15,1,1,1")])
def test_item_of_order_without_row_in_orders(tiny_data_dir, path_mode, file, line, text):
    set_line(tiny_data_dir / file, line, text)
    order_id = text.split(",")[0]
    message = error_of(tiny_data_dir)
    assert_names(message, file, line, "order_id")
    assert f"order_id {order_id} has no row in orders.csv" in message and "user is unknown" in message


def test_unknown_aisle(tiny_data_dir, path_mode):
    set_line(tiny_data_dir / "products.csv", 6, "5,Bananas,4,2")
    assert error_of(tiny_data_dir) == "products.csv line 6, column aisle_id: aisle_id 4 is not in aisles.csv"


@pytest.mark.parametrize("file", ["orders.csv", PRIOR, "products.csv", "aisles.csv"])
def test_empty_file(tiny_data_dir, file):
    (tiny_data_dir / file).write_bytes(b"")
    message = error_of(tiny_data_dir)
    assert_names(message, file, 1)
    assert "empty" in message


def test_header_only_file_is_valid_and_empty(tiny_data_dir, path_mode):
    set_line(tiny_data_dir / TRAIN, 2, None)
    set_line(tiny_data_dir / TRAIN, 2, None)
    assert len(read_dataset(tiny_data_dir).train) == 0


@pytest.mark.parametrize("file, line, text, column", [
    (PRIOR, 3, "10,2", "add_to_cart_order"),
    (PRIOR, 12, "22", "product_id"),
    ("orders.csv", 7, "20,2,prior,1,0,8", "days_since_prior_order"),
])
def test_row_with_too_few_fields(tiny_data_dir, path_mode, file, line, text, column):
    set_line(tiny_data_dir / file, line, text)
    message = error_of(tiny_data_dir)
    assert_names(message, file, line, column)
    assert "field(s), expected at least" in message


@pytest.mark.parametrize("value", ["prio", "Prior", "", "evaluation"])
def test_bad_eval_set(tiny_data_dir, path_mode, value):
    set_line(tiny_data_dir / "orders.csv", 4, f"12,1,{value},3,3,11,7.0")
    assert error_of(tiny_data_dir) == (f"orders.csv line 4, column eval_set: {value!r} is not one of "
                                       "prior, train, test")


def test_duplicate_product_id(tiny_data_dir, path_mode):
    set_line(tiny_data_dir / "products.csv", 5, "2,Apples,3,2")
    assert error_of(tiny_data_dir) == ("products.csv line 5, column product_id: product_id 2 appears twice "
                                       "(first on line 3)")


def test_duplicate_order_id(tiny_data_dir, path_mode):
    insert_line(tiny_data_dir / "orders.csv", 3, "")  # a blank line shifts the physical line numbers
    set_line(tiny_data_dir / "orders.csv", 9, "11,2,prior,2,1,8,3.0")
    assert error_of(tiny_data_dir) == ("orders.csv line 9, column order_id: order_id 11 appears twice "
                                       "(first on line 4)")


def test_duplicate_aisle_id(tiny_data_dir):
    set_line(tiny_data_dir / "aisles.csv", 4, "2,bread")
    assert error_of(tiny_data_dir) == "aisles.csv line 4, column aisle_id: aisle_id 2 appears twice (first on line 3)"


@pytest.mark.parametrize("file, line, text, column", [
    (PRIOR, 6, "12,2,99999,1", "add_to_cart_order"),          # would overflow int16
    (PRIOR, 6, "12,2,1,2", "reordered"),
    (PRIOR, 6, "12,99999999999,1,1", "product_id"),           # would overflow int32
    ("orders.csv", 3, "11,1,prior,2,7,10,7.0", "order_dow"),
    ("orders.csv", 3, "11,1,prior,2,2,24,7.0", "order_hour_of_day"),
    ("orders.csv", 3, "11,1,prior,2,2,10,-1.0", "days_since_prior_order"),
    ("orders.csv", 3, "-11,1,prior,2,2,10,7.0", "order_id"),
    ("orders.csv", 3, "3000000000,1,prior,2,2,10,7.0", "order_id"),
    ("products.csv", 2, "1,Milk,1,70000", "department_id"),
])
def test_value_out_of_range(tiny_data_dir, path_mode, file, line, text, column):
    set_line(tiny_data_dir / file, line, text)
    message = error_of(tiny_data_dir)
    assert_names(message, file, line, column)
    assert "out of range" in message


@pytest.mark.parametrize("raw", ["nan", "inf", "7,0", "seven"])
def test_days_since_prior_not_a_number(tiny_data_dir, path_mode, raw):
    set_line(tiny_data_dir / "orders.csv", 3, f'11,1,prior,2,2,10,"{raw}"')
    message = error_of(tiny_data_dir)
    assert_names(message, "orders.csv", 3, "days_since_prior_order")
    assert "is not a number" in message


def test_invalid_utf8_names_its_line(tiny_data_dir):
    path = tiny_data_dir / "products.csv"
    path.write_bytes(path.read_bytes().replace(b"Eggs", b"Eg\xffgs"))
    message = error_of(tiny_data_dir)
    assert_names(message, "products.csv", 4)
    assert "UTF-8" in message


def test_unterminated_quote_is_a_data_error(tiny_data_dir):
    path = tiny_data_dir / "products.csv"
    path.write_text(path.read_text().replace('"Bread, white"', '"Bread, white' + "x" * 200_000))
    message = error_of(tiny_data_dir)
    assert_names(message, "products.csv", 3)
    assert "never closes" in message


@pytest.mark.parametrize("file, line, old, new", [
    ("products.csv", 3, '"Bread, white"', '"Bread, white'),          # swallows the rest of the file
    ("products.csv", 7, "6,Cheese,1,1", '6,"Cheese,1,1'),           # on the last line
    (PRIOR, 5, "11,3,2,0", '"11,3,2,0'),                             # in a numeric file
    ("orders.csv", 2, "10,1,prior,1,1,9,", '10,1,"prior,1,1,9,'),
])
def test_unterminated_quote_is_named_where_it_opened(tiny_data_dir, path_mode, file, line, old, new):
    path = tiny_data_dir / file
    path.write_text(path.read_text().replace(old, new, 1))
    message = error_of(tiny_data_dir)
    assert_names(message, file, line)
    assert "unterminated quote" in message


def test_text_after_a_closing_quote_is_an_error(tiny_data_dir):
    path = tiny_data_dir / "products.csv"
    path.write_text(path.read_text().replace('"Bread, white"', '"Bread," white'))
    message = error_of(tiny_data_dir)
    assert_names(message, "products.csv", 3)
    assert "malformed CSV" in message


NON_CANONICAL = ["+12", "\uff11\uff12", "\u0661\u0662", "1_000", "12\u00a0", "\u200912", "\u0e51\u0e52", "0x1f",
                 "\u00b2"]


@pytest.mark.parametrize("raw", NON_CANONICAL)
def test_non_canonical_integers_are_refused(tiny_data_dir, path_mode, raw):
    set_line(tiny_data_dir / PRIOR, 6, f"12,{raw},1,1")
    message = error_of(tiny_data_dir)
    assert_names(message, PRIOR, 6, "product_id")
    assert f"{raw!r} is not an integer" in message


@pytest.mark.parametrize("raw", ["+7.0", "7_0.0", "\u0667.0", "\uff17", "7.0\u00a0", "1e1_0", "0x1p3"])
def test_non_canonical_decimals_are_refused(tiny_data_dir, path_mode, raw):
    set_line(tiny_data_dir / "orders.csv", 3, f"11,1,prior,2,2,10,{raw}")
    message = error_of(tiny_data_dir)
    assert_names(message, "orders.csv", 3, "days_since_prior_order")
    assert f"{raw!r} is not a number" in message


@pytest.mark.parametrize("raw", ["+12", "1_000", " 12", "12 ", "\uff11\uff12", "\u0661\u0662", "-3", "1.0"])
def test_fast_path_leaves_non_plain_numbers_to_the_exact_path(raw):
    from themepage.dataset.fastchunk import Chunk

    chunk = Chunk(f"1,{raw}\n".encode(), 2)
    assert not chunk.ok or chunk.column(1, csvio.Column("b")) is None


@pytest.mark.parametrize("raw, value", [(" 12", 12), ("12\t", 12), ("007", 7), ("-0", 0)])
def test_plain_integers_with_padding_are_read(tmp_path, path_mode, raw, value):
    path = tmp_path / "t.csv"
    path.write_text(f"a,b\n1,{raw}\n", encoding="utf-8")
    assert csvio.read_columns(path, [csvio.Column("b")], SkipLog())["b"].tolist() == [value]


@pytest.mark.parametrize("raw, value", [("7.0", 7.0), (".5", 0.5), ("7.", 7.0), ("1e1", 10.0), ("2.5E-1", 0.25)])
def test_plain_decimals_are_read(tmp_path, path_mode, raw, value):
    path = tmp_path / "t.csv"
    path.write_text(f"a,b\n1,{raw}\n", encoding="utf-8")
    assert csvio.read_columns(path, [csvio.Column("b", np.float32)], SkipLog())["b"].tolist() == [value]


def test_error_deep_in_a_large_file_names_its_line(tiny_data_dir, monkeypatch):
    """The fast path hands over to the exact one at the failing chunk: line numbers stay exact."""
    data_dir = tiny_data_dir
    monkeypatch.setattr(csvio, "CHUNK_BYTES", 4096)
    rows = ["order_id,product_id,add_to_cart_order,reordered"] + [f"10,1,{i},0" for i in range(1, 20_000)]
    rows.insert(5_000, "")
    rows[15_000] = "10,123,7,0"
    (data_dir / PRIOR).write_text("\r\n".join(rows) + "\r\n")
    assert error_of(data_dir) == f"{PRIOR} line 15001, column product_id: product_id 123 is not in products.csv"


# ----------------------------------------------------------------------------- rows skipped on purpose


def test_blank_lines_are_skipped_and_counted(tiny_data_dir, path_mode):
    insert_line(tiny_data_dir / PRIOR, 4, "")
    insert_line(tiny_data_dir / PRIOR, 8, "   ")
    path = tiny_data_dir / PRIOR
    path.write_text(path.read_text() + "\n")
    d = read_dataset(tiny_data_dir)
    assert len(d.prior) == 11
    assert f"{PRIOR}: skipped 3 row(s): blank line" in d.skipped


def test_duplicate_items_are_skipped_and_counted(tiny_data_dir, path_mode):
    insert_line(tiny_data_dir / PRIOR, 5, "11,1,3,0")   # order 11 already has product 1 (cart position 1)
    insert_line(tiny_data_dir / PRIOR, 6, "11,1,4,0")
    insert_line(tiny_data_dir / "baskets.csv", 3, "900,1,9,1")
    d = read_dataset(tiny_data_dir)
    assert len(d.prior) == 11 and len(d.baskets) == 5
    kept = (d.prior.order_ids == 11) & (d.prior.product_ids == 1)
    assert d.prior.add_to_cart[kept].tolist() == [1], "the first occurrence is kept"
    assert f"{PRIOR}: skipped 2 row(s): the same product twice in one order" in d.skipped
    assert "baskets.csv: skipped 1 row(s): the same product twice in one order" in d.skipped


def test_basket_colliding_with_an_order_is_skipped_and_counted(tiny_data_dir, path_mode):
    insert_line(tiny_data_dir / "baskets.csv", 2, "12,6,1,0")
    insert_line(tiny_data_dir / "baskets.csv", 2, "23,5,1,0")
    d = read_dataset(tiny_data_dir)
    assert len(d.baskets) == 5 and not np.isin(d.baskets.order_ids, d.orders.order_ids).any()
    assert "baskets.csv: skipped 2 row(s): order_id belongs to an order in orders.csv" in d.skipped


def test_item_in_the_wrong_eval_set_is_skipped_and_counted(tiny_data_dir, path_mode):
    insert_line(tiny_data_dir / PRIOR, 2, "14,6,3,0")  # order 14 is a train order
    d = read_dataset(tiny_data_dir)
    assert len(d.prior) == 11 and 14 not in d.prior.order_ids
    assert f"{PRIOR}: skipped 1 row(s): order is not in eval_set 'prior' in orders.csv" in d.skipped


def test_baskets_are_optional(tiny_data_dir):
    (tiny_data_dir / "baskets.csv").unlink()
    assert len(read_dataset(tiny_data_dir).baskets) == 0


def test_crlf_bom_quotes_and_spaces(tiny_data_dir, path_mode):
    """What csv accepts is read the same by both paths: CRLF, a BOM, quoted numbers, padded fields."""
    path = tiny_data_dir / PRIOR
    text = path.read_text().replace("11,3,2,0", '"11", 3 ,2,0').replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    d = read_dataset(tiny_data_dir)
    assert d.prior.product_ids.tolist() == [1, 2, 1, 3, 2, 3, 1, 4, 5, 4, 6]
    assert d.skipped == ()


# ----------------------------------------------------------------------------- fast path == exact path


field = st.one_of(
    st.integers(0, 10**9).map(str),
    st.integers(0, 999).map(lambda n: f"{n:05d}"),              # leading zeros
    st.integers(0, 99).map(lambda n: f" {n} "),                  # padding
    st.integers(0, 99).map(lambda n: f'"{n}"'),                  # quoted
    st.sampled_from(["", "x", "1.5", "-3", "+4", "99999999999"]),
)
decimal = st.one_of(st.sampled_from(["", "15.0", "0.5", ".5", "7.", "30", "1e3", "nan", "-1.0", "."]),
                    st.floats(0, 1e6, allow_nan=False).map(repr))
choice = st.sampled_from(["prior", "train", "test", " test", "tesT", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(st.tuples(field, field, choice, decimal), st.just(None)), max_size=25),
       newline=st.sampled_from(["\n", "\r\n"]), chunk=st.sampled_from([5, 13, 64, 1 << 20]),
       final_newline=st.booleans())
def test_fast_path_equals_exact_path(tmp_path, monkeypatch, rows, newline, chunk, final_newline):
    lines = ["a,b,c,d,extra"] + ["" if r is None else ",".join(r) + ",z" for r in rows]
    path = tmp_path / "t.csv"
    path.write_text(newline.join(lines) + (newline if final_newline else ""), encoding="utf-8")
    known = np.zeros(1000, dtype=np.uint8)
    known[::3] = 1
    columns = [csvio.Column("a", np.int64), csvio.Column("b", low=0, high=999, known=known.tobytes()),
               csvio.Column("c", choices=("prior", "train", "test")),
               csvio.Column("d", np.float32, optional=True, low=0.0)]

    def run():
        skips = SkipLog()
        try:
            return read_outcome(csvio.read_columns(path, columns, skips)), skips.counts
        except DataError as error:
            return str(error), skips.counts

    monkeypatch.setattr(csvio, "CHUNK_BYTES", chunk)
    fast = run()
    monkeypatch.setattr(csvio, "Chunk", lambda data, n_fields: SimpleNamespace(ok=False))
    exact = run()
    assert fast == exact


def read_outcome(columns: dict) -> dict:
    return {name: (values.dtype.str, np.where(np.isnan(values), -1, values).tolist()
                   if values.dtype.kind == "f" else values.tolist()) for name, values in columns.items()}


# ----------------------------------------------------------------------------- the bundled data


@pytest.fixture(scope="module")
def bundled():
    return read_dataset(BUNDLED_DATA_DIR)


def test_bundled_counts(bundled):
    d = bundled
    assert len(d.catalog) == 49_688
    assert len(d.orders) == 564
    assert len(d.prior) == 5_277
    assert len(d.train) == 268
    assert len(d.baskets) == 199_953
    assert d.skipped == ()
    assert len(d.user_ids) == 33
    assert not np.isin(d.baskets.order_ids, d.orders.order_ids).any()
    assert d.prior.order_ids.dtype == np.int32 and d.prior.add_to_cart.dtype == np.int16
    assert d.catalog.name(1) == "Chocolate Sandwich Cookies"


def test_bundled_histories(bundled):
    histories = Histories(bundled)
    assert len(histories.user_ids) == 33
    user = histories.get(1)
    assert len(user.orders) == 11
    numbers = [o.order_number for o in user.orders]
    assert numbers == sorted(numbers) and numbers[0] == 1
    assert user.orders[0].days_since_prior is None
    assert all(o.days_since_prior is not None for o in user.orders[1:])
    assert all(o.products for o in user.orders)
    first = user.orders[0]
    rows = bundled.prior.order_ids == first.order_id
    cart = np.argsort(bundled.prior.add_to_cart[rows], kind="stable")
    assert list(first.products) == bundled.prior.product_ids[rows][cart].tolist(), "cart order"
    prior_only = Histories(bundled, eval_sets=(0,))
    assert len(prior_only.get(1).orders) == 10
    with pytest.raises(KeyError):
        histories.get(10**9)


def test_histories_of_tiny(tiny_data_dir):
    d = read_dataset(tiny_data_dir)
    h = Histories(d)
    assert h.user_ids == [1, 2]
    assert [o.order_id for o in h.get(1).orders] == [10, 11, 12, 13, 14]
    assert [o.order_id for o in h.get(2).orders] == [20, 21, 22], "the test order has no items"
    assert h.get(2).orders[2].products == (4, 6)
    assert Histories(d, eval_sets=()).user_ids == []


def order(order_number: int, *products: int) -> Order:
    return Order(order_id=100 + order_number, order_number=order_number, dow=0, hour=0,
                 days_since_prior=None if order_number == 1 else 7.0, products=products)


def test_top_products_breaks_ties_by_most_recent_purchase():
    user = UserHistory(user_id=1, orders=(
        order(1, 7, 3, 2, 50),
        order(2, 7, 50),
        order(3, 3, 5, 50),
        order(4, 9, 8),
    ))
    # 50: three orders; 7 and 3: two each, 3 bought more recently; 9 and 8 once in the newest order
    # (same recency, so the earlier cart slot: 9), then 5 (order 3) before 2 (order 1) although 2 < 5.
    assert user.top_products() == [50, 3, 7, 9, 8, 5, 2]
    assert user.top_products(3) == [50, 3, 7]
    assert UserHistory(user_id=2).top_products() == []
