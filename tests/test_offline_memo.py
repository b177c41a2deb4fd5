"""One caching style for values derived from an index (themepage/index/derived.py, used by the theme library and
the offline engine): stored per index object, never by id(); one name map, one user-context format, one TITLE_HITS."""

from __future__ import annotations

import gc

from themepage import constants
from themepage.index import CatalogIndex, derived
from themepage.offline.reading import product_ids_by_name, read_shopper
from themepage.wording.prompt_text import inline
from themepage.wording.user_context import describe_user


def _renamed(folder, old: str, new: str):
    path = folder / "products.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return folder


def test_each_index_gets_its_own_names_and_nothing_outlives_it(tmp_path, tiny_data_dir):
    first = CatalogIndex.open(tiny_data_dir, tmp_path / "cache-a")
    assert product_ids_by_name(first)["Milk"] == 1
    held = len(derived._DERIVED)
    del first
    gc.collect()
    assert len(derived._DERIVED) == held - 1, "a dead index's derived values were kept"
    second = CatalogIndex.open(_renamed(tiny_data_dir, "1,Milk,", "1,Oat Milk,"), tmp_path / "cache-b")
    names = product_ids_by_name(second)
    assert "Milk" not in names and names["Oat Milk"] == 1


def test_a_shopper_is_read_against_the_index_it_is_asked_with(tmp_path, tiny_data_dir):
    first = CatalogIndex.open(tiny_data_dir, tmp_path / "cache-a")
    text = describe_user(first.histories.get(1), first)
    assert 1 in read_shopper(text, first).product_share
    second = CatalogIndex.open(_renamed(tiny_data_dir, "1,Milk,", "1,Oat Milk,"), tmp_path / "cache-b")
    assert 1 not in read_shopper(text, second).product_share, "the other index's shopper was served"


def test_names_that_collide_once_made_prompt_safe_map_to_the_first_product(index):
    seen: dict[str, int] = {}
    collision = None
    for pid, name in zip(index.catalog.product_ids.tolist(), index.catalog.names, strict=True):
        key = inline(name)
        if key in seen:
            collision = (seen[key], pid, name)
            break
        seen[key] = pid
    assert collision, "the bundled catalog has names that differ only in spacing"
    first, later, later_name = collision
    assert product_ids_by_name(index)[inline(later_name)] == first


def test_title_hits_is_defined_once():
    """TITLE_HITS lives in themepage/constants.py and nowhere else."""
    import pathlib

    root = pathlib.Path(constants.__file__).parents[1]
    defining = [path for folder in ("themepage", "metrics", "programs", "optimize")
                for path in (root / folder).rglob("*.py") if "TITLE_HITS =" in path.read_text(encoding="utf-8")]
    assert defining == [pathlib.Path(constants.__file__)]
