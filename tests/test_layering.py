"""Arrows point down: the core package never imports the layers above it (the CLI, which wires them, aside)."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "themepage"
UPPER = {"programs", "metrics", "optimize", "trainsets"}


def upper_imports(source: str) -> list[str]:
    """The modules above the core that this source imports (absolute imports, at any depth of the file)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in UPPER]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in UPPER:
                found.append(node.module)
    return found


def test_upper_imports_are_found_wherever_they_are():
    source = "import os\nimport metrics.scores\ndef f():\n    from optimize.errors import CompileError\n"
    assert upper_imports(source) == ["metrics.scores", "optimize.errors"]
    assert upper_imports("from themepage.page import Page\nfrom . import programs\n") == []


CORE_FILES = sorted(p for p in CORE.rglob("*.py") if "cli" not in p.relative_to(CORE).parts[:1])


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_module_imports_nothing_above_it(path):
    assert upper_imports(path.read_text()) == [], f"{path.relative_to(CORE.parent)} imports a layer above the core"


def test_the_core_files_were_found():
    assert len(CORE_FILES) > 20 and CORE / "objective.py" in CORE_FILES
    assert not any(p.relative_to(CORE).parts[0] == "cli" for p in CORE_FILES)
