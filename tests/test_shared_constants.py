"""A number two parts of the code must agree on is defined once, in themepage/constants.py, and imported."""

import ast
import os
from pathlib import Path

from themepage import constants
from themepage.library import theme_rows
from themepage.programs.rules import apply

CORE = Path(__file__).resolve().parent.parent / "themepage"


def test_the_library_theme_rows_and_the_page_rules_hold_to_the_same_numbers():
    assert theme_rows.PRODUCTS_PER_PLACEMENT is constants.PRODUCTS_PER_PLACEMENT
    assert apply.ROW_DUPLICATE_CHANCE is constants.ROW_DUPLICATE_CHANCE


def _assigned_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {target.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)}


def test_no_module_but_constants_defines_a_shared_constant():
    shared = {name for name in vars(constants) if name.isupper()}
    files = [Path(folder) / name for folder, _, names in os.walk(CORE, followlinks=True)
             for name in names if name.endswith(".py") and name != "constants.py"]
    restated = sorted(f"{path.relative_to(CORE.parent)}: {name}" for path in files
                      for name in _assigned_names(path) & shared)
    assert not restated, "restated from themepage/constants.py:\n" + "\n".join(restated)
