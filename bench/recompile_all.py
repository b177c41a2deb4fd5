"""Recompile every committed compiled program, each with the optimizer and LM it was compiled with.

Not a test: a script, for after a change to a signature (the gate test then refuses the stale files).

    cd /work/main && .venv/bin/python bench/recompile_all.py                # every file under compiled/
    cd /work/main && .venv/bin/python bench/recompile_all.py --dry-run      # print the commands only
    cd /work/main && .venv/bin/python bench/recompile_all.py -- --api-base http://127.0.0.1:8080/v1

Files are found under both layouts (compiled/<objective>/<program>.json for the offline engine,
compiled/<lm-slug>/<objective>/<program>.json for other LMs). The optimizer and LM come from each
file's metadata; a file without it (or one this script cannot read) is compiled with the default
optimizer for the LM its folder implies, offline for the first layout. Arguments after `--` go to
every `themepage compile` (e.g. --api-base for a local server). Each compile runs `themepage compile`
in its own process, one after another (a default offline GEPA compile takes about a minute or two).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from themepage.optimize.compiled_files import COMPILED_DIR  # noqa: E402
from themepage.optimize.fingerprint import OFFLINE_LM  # noqa: E402
from themepage.optimize.names import DEFAULT_OPTIMIZER  # noqa: E402


def recorded(path: Path) -> tuple[str | None, str | None]:
    """(lm, optimizer) from the file's metadata, or (None, None) when it has none or cannot be read."""
    try:
        ours = json.loads(path.read_text())["metadata"]["themepage"]
        return str(ours["lm"]), str(ours["optimizer"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def compile_commands(root: Path, extra: list[str]) -> list[list[str]]:
    """One `themepage compile` argument list per committed file, writing back to that file."""
    commands = []
    for path in sorted(root.glob("*/*.json")) + sorted(root.glob("*/*/*.json")):
        lm, optimizer = recorded(path)
        nested = path.parent.parent != root
        if lm is None and nested:
            print(f"skipped {path}: no metadata naming its LM; compile it by hand with --lm", file=sys.stderr)
            continue
        command = ["compile", "--objective", path.parent.name, "--program", path.stem,
                   "--optimizer", optimizer or DEFAULT_OPTIMIZER, "--out", str(path)]
        if (lm or OFFLINE_LM) != OFFLINE_LM:
            command += ["--lm", lm or ""]
        commands.append(command + extra)
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compiled", type=Path, default=COMPILED_DIR, help="Root of the compiled files.")
    parser.add_argument("--dry-run", action="store_true", help="Print the commands, run nothing.")
    parser.add_argument("extra", nargs="*", help="Arguments for every compile, after `--`.")
    args = parser.parse_args()
    executable = shutil.which("themepage", path=str(Path(sys.executable).parent)) or shutil.which("themepage")
    if executable is None:
        sys.exit("error: the `themepage` command is not installed (pip install -e .)")
    commands = compile_commands(args.compiled, args.extra)
    for i, command in enumerate(commands, start=1):
        print(f"[{i}/{len(commands)}] themepage {' '.join(command)}", flush=True)
        if args.dry_run:
            continue
        start = time.perf_counter()
        subprocess.run([executable, *command], check=True)
        print(f"    {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
