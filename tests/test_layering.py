"""Arrows point down: the core package never imports the layers above it (the CLI, which wires them, aside)."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "themepage"
UPPER = {"programs", "metrics", "optimize", "trainsets"}
"""The faces above the core, importable as `themepage.<face>`."""
FACES = {"programs", "metrics", "optimize", "trainsets", "signatures", "compiled"}


def _face(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "themepage" and len(parts) > 1 else None


def upper_imports(source: str) -> list[str]:
    """The modules above the core that this source imports (absolute imports, at any depth of the file)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _face(alias.name) in UPPER]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _face(node.module) in UPPER:
                found.append(node.module)
    return found


def test_upper_imports_are_found_wherever_they_are():
    source = ("import os\nimport themepage.metrics.scores\ndef f():\n"
              "    from themepage.optimize.errors import CompileError\n")
    assert upper_imports(source) == ["themepage.metrics.scores", "themepage.optimize.errors"]
    assert upper_imports("from themepage.page import Page\nfrom . import programs\n") == []


CORE_FILES = sorted(p for p in CORE.rglob("*.py") if p.relative_to(CORE).parts[0] not in {"cli", *FACES})


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_module_imports_nothing_above_it(path):
    assert upper_imports(path.read_text()) == [], f"{path.relative_to(CORE.parent)} imports a layer above the core"


def test_the_core_files_were_found():
    assert len(CORE_FILES) > 20 and CORE / "objectives" / "config.py" in CORE_FILES
    assert not any(p.relative_to(CORE).parts[0] == "cli" for p in CORE_FILES)
