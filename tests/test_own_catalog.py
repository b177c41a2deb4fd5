"""Your own catalog: a small made-up hardware store read, checked and turned into the Instacart layout."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from themepage.dataset import DataError, Histories, read_dataset
from themepage.dataset.cases import evaluation_cases, held_out_order_ids
from themepage.dataset.own_catalog import read_own_catalog, write_instacart_layout
from themepage.index import CatalogIndex

STORE = {
    "products.csv": """product_id,product_name,category,top_category,price
10,Claw Hammer,hand tools,tools,12.5
11,"Screwdriver Set, 6 pieces",hand tools,tools,9
12,Wood Screws 4x40,fasteners,hardware,3
13,Wall Plugs,fasteners,hardware,2
14,Cordless Drill,power tools,tools,80
15,Drill Bits,power tools,tools,7
""",
    # user 7 orders by timestamp (rows out of time order); user 8 by date only
    "orders.csv": """order_id,user_id,ordered_at
100,7,2024-03-08T09:30:00
101,7,2024-03-01T18:00:00
102,7,2024-03-15T09:00:00
200,8,2024-01-01
201,8,2024-01-11
""",
    "order_items.csv": """order_id,product_id
101,10
101,12
100,12
100,13
100,11
102,14
102,15
102,12
200,14
201,15
201,15
""",
}


def write_store(folder: Path, files: dict[str, str] = STORE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def store(tmp_path) -> Path:
    return write_store(tmp_path / "store")


def test_reads_a_non_grocery_catalog(store):
    d = read_own_catalog(store)
    assert d.catalog.aisles == {1: "fasteners", 2: "hand tools", 3: "power tools"}
    assert d.catalog.departments == {1: "hardware", 2: "tools"}
    assert d.catalog.department_of_aisle == {"fasteners": "hardware", "hand tools": "tools", "power tools": "tools"}
    assert d.catalog.aisle(11) == "hand tools" and d.catalog.department(12) == "hardware"
    assert d.catalog.name(11) == "Screwdriver Set, 6 pieces"
    numbers = dict(zip(d.orders.order_ids.tolist(), d.orders.order_numbers.tolist(), strict=True))
    assert numbers == {100: 2, 101: 1, 102: 3, 200: 1, 201: 2}
    days = dict(zip(d.orders.order_ids.tolist(), d.orders.days_since_prior.tolist(), strict=True))
    assert np.isnan(days[101]) and days[100] == pytest.approx(6 + 15.5 / 24) and days[201] == 10.0
    row = {o: i for i, o in enumerate(d.orders.order_ids.tolist())}
    assert d.orders.dows[row[101]] == 5 and d.orders.hours[row[101]] == 18  # 2024-03-01 was a Friday
    assert d.skipped == ("order_items.csv: skipped 1 row(s): the same product twice in one order",)


def test_cart_positions_and_reorders_are_derived(store):
    d = read_own_catalog(store)
    items = {(o, p): (c, r) for o, p, c, r in zip(d.prior.order_ids.tolist(), d.prior.product_ids.tolist(),
                                                   d.prior.add_to_cart.tolist(), d.prior.reordered.tolist(),
                                                   strict=True)}
    assert items[(100, 12)] == (1, 1), "wood screws again (first bought in order 101, the earlier one)"
    assert items[(100, 11)] == (3, 0) and items[(101, 12)] == (2, 0) and items[(102, 12)] == (3, 1)
    assert items[(201, 15)] == (1, 0)


def test_histories_and_evaluation_follow_the_time_order(store):
    histories = Histories(read_own_catalog(store))
    assert [o.order_id for o in histories.get(7).orders] == [101, 100, 102]
    assert held_out_order_ids(histories) == {102, 201}
    case = {c.user_id: c for c in evaluation_cases(histories)}[7]
    assert case.target == (14, 15, 12) and len(case.history.orders) == 2


def test_instacart_layout_round_trip_and_index(store, tmp_path):
    own = read_own_catalog(store)
    out = tmp_path / "instacart"
    write_instacart_layout(own, out)
    back = read_dataset(out)
    for name in ("orders", "prior", "train", "baskets"):
        for f in fields(getattr(own, name)):
            mine, theirs = getattr(getattr(own, name), f.name), getattr(getattr(back, name), f.name)
            assert mine.dtype == theirs.dtype, (name, f.name)
            np.testing.assert_array_equal(mine, theirs, err_msg=f"{name}.{f.name}")
    assert back.catalog.names == own.catalog.names and back.catalog.aisles == own.catalog.aisles
    assert back.catalog.departments == own.catalog.departments
    index = CatalogIndex.open(out, tmp_path / "cache")
    assert set(index.search("drill", k=5)) == {14, 15}
    assert index.search("hammer", k=1) == [10]


def test_order_numbers_may_replace_timestamps(tmp_path):
    files = {**STORE, "orders.csv": "order_id,user_id,order_number\n100,7,2\n101,7,1\n102,7,3\n200,8,1\n201,8,2\n",
             "order_items.csv": "order_id,product_id,position\n101,10,2\n101,12,1\n102,14,1\n201,15,1\n200,14,1\n"}
    d = read_own_catalog(write_store(tmp_path / "s", files))
    assert held_out_order_ids(Histories(d)) == {102, 201}
    assert np.isnan(d.orders.days_since_prior).all()
    first = (d.prior.order_ids == 101) & (d.prior.product_ids == 12)
    assert d.prior.add_to_cart[first].tolist() == [1]


@pytest.mark.parametrize("file, old, new, where, words", [
    ("orders.csv", "2024-03-15T09:00:00", "15/03/2024", "orders.csv line 4, column ordered_at", "ISO 8601"),
    ("orders.csv", "201,8,2024-01-11", "201,8,", "orders.csv line 6, column ordered_at", "ISO 8601"),
    ("orders.csv", "200,8,", "20x,8,", "orders.csv line 5, column order_id", "not an integer"),
    ("order_items.csv", "102,15", "102,99", "order_items.csv line 8, column product_id", "not in products.csv"),
    ("order_items.csv", "200,14", "300,14", "order_items.csv line 10, column order_id", "no row in orders.csv"),
    ("products.csv", "13,Wall Plugs,fasteners", "13,Wall Plugs,", "products.csv line 5, column category", "empty"),
    ("products.csv", "14,Cordless", "12,Cordless", "products.csv line 6, column product_id", "appears twice"),
    ("products.csv", "product_id,product_name,category,top_category", "product_id,product_name,category",
     "products.csv line 1, column top_category", "missing column"),
])
def test_errors_name_file_line_and_column(tmp_path, file, old, new, where, words):
    files = dict(STORE)
    assert old in files[file]
    files[file] = files[file].replace(old, new, 1)
    with pytest.raises(DataError) as caught:
        read_own_catalog(write_store(tmp_path / "s", files))
    message = str(caught.value)
    assert message.startswith(where + ": ") and words in message, message


def test_order_number_twice_for_one_user(tmp_path):
    files = {**STORE, "orders.csv": "order_id,user_id,order_number\n100,7,1\n101,7,2\n102,7,1\n200,8,1\n201,8,2\n"}
    with pytest.raises(DataError, match=r"orders.csv line 4, column order_number: user 7 has order_number 1 twice "
                                        r"\(first on line 2\)"):
        read_own_catalog(write_store(tmp_path / "s", files))


def test_orders_need_a_number_or_a_time(tmp_path):
    files = {**STORE, "orders.csv": "order_id,user_id\n100,7\n"}
    with pytest.raises(DataError, match=r"orders.csv line 1: needs an order_number or an ordered_at column"):
        read_own_catalog(write_store(tmp_path / "s", files))


def test_missing_file_and_parquet(tmp_path, store):
    (store / "orders.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataError, match=r"orders.parquet: Parquet needs pyarrow"):
        read_own_catalog(store)
    (store / "orders.parquet").unlink()
    (store / "order_items.csv").unlink()
    with pytest.raises(DataError, match=r"order_items.csv: file not found"):
        read_own_catalog(store)
