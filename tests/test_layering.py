"""The house drawn from the code: every module under themepage/ sits in a layer, and arrows only point down.

The import graph is read with `ast` from every module under themepage/, the symlinked faces (programs,
signatures, metrics, trainsets, optimize) included as `themepage.<face>`: absolute imports at any depth of a
file (a function's lazy import counts as much as a top-level one) and relative imports resolved. A module's
layer is its room (`themepage.<room>...`); a new room must be given a layer here before it can be imported.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "themepage"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("constants",),
    ("dataset",),
    ("index",),
    ("quality",),
    ("wording", "page", "objectives", "library"),
    ("offline",),
    ("lm", "server"),
    ("signatures",),
    ("programs",),
    ("metrics",),
    ("trainsets",),
    ("optimize",),
    ("report",),
    ("cli",),
)
"""Bottom to top; the rooms of one line share a layer. `constants` also holds the `themepage` package itself."""

STAND_IN = "offline"
STAND_IN_READS = frozenset({"constants", "dataset", "index", "page", "wording", "library", STAND_IN})
"""The rooms the stand-in may read: the catalog, the page, words and the theme library. Never the placement scorer
(`quality`) the metrics grade pages with, nor the objectives' advice words: a grader must not grade its own answers."""
STAND_IN_USERS = {
    "themepage.lm.plug": "the LM plug: `offline` is one of the models it makes",
    "themepage.server": "the stand-in's own HTTP face (`serve-offline-lm`)",
    "themepage.cli.serve": "the command that serves it",
    "themepage.optimize.optimizers": "GEPA's rule-based instruction proposer for an offline compile",
}
"""The only modules outside the stand-in that import it (a key names a module or a package), and why."""

LAYER_OF = {room: height for height, rooms in enumerate(LAYERS) for room in rooms}
FACES = ("programs", "signatures", "metrics", "trainsets", "optimize")


def module_files(root: Path = CORE) -> dict[str, Path]:
    """Every module under `root` by dotted name, following the symlinked faces."""
    found = {}
    for folder, _, names in os.walk(root, followlinks=True):
        for name in names:
            if not name.endswith(".py"):
                continue
            parts = list((Path(folder) / name).relative_to(root.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = Path(folder) / name
    return found


def imported_modules(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The `themepage` modules `source` imports, wherever in the file; `from P import m` names P.m if it is a module."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    return {name for name in found if name.split(".")[0] == "themepage"}


def import_graph(root: Path = CORE) -> dict[str, set[str]]:
    files = module_files(root)
    known = set(files)
    return {
        name: imported_modules(path.read_text(), name, path.name == "__init__.py", known)
        for name, path in files.items()
    }


def room(module: str) -> str:
    """`themepage.<room>...`; the package itself and `themepage.constants` are the room `constants`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "constants"


def upward_arrows(graph: dict[str, set[str]]) -> list[str]:
    arrows = []
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = room(importer), room(target)
            if LAYER_OF[high] > LAYER_OF[low]:
                arrows.append(f"{importer} ({low}) imports {target} ({high}), a layer above")
    return arrows


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` as a path that returns to its start, or [] when it has none."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def room_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    rooms: dict[str, set[str]] = {}
    for importer, targets in graph.items():
        rooms.setdefault(room(importer), set()).update(room(t) for t in targets if room(t) != room(importer))
    return rooms


GRAPH = import_graph()


def test_the_graph_reads_absolute_imports_at_any_depth_and_relative_ones():
    source = ("import os\nimport themepage.metrics.scores\ndef f():\n"
              "    from themepage.optimize.errors import CompileError\n"
              "from themepage.lm import plug, settings_name\nfrom . import sibling\nfrom ..page import Page\n")
    known = {"themepage.lm.plug", "themepage.offline.sibling"}
    assert imported_modules(source, "themepage.offline.engine", False, known) == {
        "themepage.metrics.scores", "themepage.optimize.errors", "themepage.lm.plug", "themepage.lm",
        "themepage.offline.sibling", "themepage.page"}


def test_the_whole_house_was_read_the_faces_included():
    rooms = {room(module) for module in GRAPH}
    assert set(FACES) <= rooms and {"cli", "lm", "offline", "constants"} <= rooms
    assert "themepage.programs.rules.apply" in GRAPH and "themepage.cli.app" in GRAPH
    assert any(target.startswith("themepage.programs.") for target in GRAPH["themepage.cli.compile"])


def test_every_room_has_a_layer():
    unplaced = sorted({room(m) for m in GRAPH} - set(LAYER_OF))
    assert not unplaced, f"rooms without a layer in tests/test_layering.py: {unplaced}"


def test_no_module_imports_a_layer_above_its_own():
    arrows = upward_arrows(GRAPH)
    assert not arrows, "upward imports:\n" + "\n".join(arrows)


def test_nothing_but_the_cli_imports_the_cli():
    arrows = [f"{m} imports {t}" for m, ts in GRAPH.items() if room(m) != "cli" for t in ts if room(t) == "cli"]
    assert not arrows, "\n".join(arrows)


def test_an_upward_arrow_is_named():
    graph = {"themepage.page.model": {"themepage.lm.plug"}, "themepage.lm.plug": {"themepage.page.model"}}
    assert upward_arrows(graph) == ["themepage.page.model (page) imports themepage.lm.plug (lm), a layer above"]


def stand_in_reads_beyond(graph: dict[str, set[str]]) -> list[str]:
    """Imports of the stand-in from rooms it may not read."""
    return [f"{m} imports {t}" for m, ts in sorted(graph.items()) if room(m) == STAND_IN
            for t in sorted(ts) if room(t) not in STAND_IN_READS]


def stand_in_users(graph: dict[str, set[str]]) -> list[str]:
    """Imports of the stand-in by modules not in STAND_IN_USERS."""
    allowed = tuple(STAND_IN_USERS)
    return [f"{m} imports {t}" for m, ts in sorted(graph.items())
            if room(m) != STAND_IN and not (m in allowed or m.startswith(tuple(a + "." for a in allowed)))
            for t in sorted(ts) if room(t) == STAND_IN]


def test_the_stand_in_reads_no_grader():
    found = stand_in_reads_beyond(GRAPH)
    assert not found, "the stand-in reads rooms beyond STAND_IN_READS:\n" + "\n".join(found)


def test_only_the_plug_and_the_stand_ins_own_faces_import_the_stand_in():
    found = stand_in_users(GRAPH)
    assert not found, "program code imports the stand-in (add a reason to STAND_IN_USERS only if it must):\n" + \
        "\n".join(found)


def test_stand_in_checks_name_what_they_catch():
    graph = {"themepage.offline.planner": {"themepage.quality.scorer", "themepage.library.theme_bank"},
             "themepage.offline.proposing": {"themepage.objectives"},
             "themepage.programs.top_down": {"themepage.offline.engine"},
             "themepage.server.httpd": {"themepage.offline.engine"},
             "themepage.lm.plug": {"themepage.offline.engine"},
             "themepage.lm.runtime": {"themepage.offline.engine"}}
    assert stand_in_reads_beyond(graph) == ["themepage.offline.planner imports themepage.quality.scorer",
                                            "themepage.offline.proposing imports themepage.objectives"]
    assert stand_in_users(graph) == ["themepage.lm.runtime imports themepage.offline.engine",
                                     "themepage.programs.top_down imports themepage.offline.engine"]


def test_no_cycle_between_rooms():
    cycle = find_cycle(room_graph(GRAPH))
    assert not cycle, "rooms import each other: " + " -> ".join(cycle)


def test_no_cycle_between_modules():
    cycle = find_cycle(GRAPH)
    assert not cycle, "modules import each other: " + " -> ".join(cycle)


def test_a_cycle_is_found_and_named():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_only_themepage_is_a_top_level_name_of_the_distribution():
    top_level = importlib.metadata.distribution("themepage").read_text("top_level.txt")
    assert top_level is not None and top_level.split() == ["themepage"]


def test_the_faces_import_only_through_themepage(tmp_path):
    """From a folder outside the checkout, with no PYTHONPATH, `programs` etc. are not importable on their own."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    probe = ("import importlib.util, sys\nfaces = sys.argv[1:]\n"
             "print([f for f in faces if importlib.util.find_spec(f) is not None],"
             " [f for f in faces if importlib.util.find_spec('themepage.' + f) is None])")
    run = subprocess.run([sys.executable, "-c", probe, *FACES], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[] []", f"(importable alone, missing under themepage): {run.stdout.strip()}"
