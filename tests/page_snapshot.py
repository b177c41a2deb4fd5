"""Offline pages of a fixed set of bundled users, as compact JSON: what a speed change must leave exactly as it was.

    PYTHONPATH=$PWD python tests/page_snapshot.py --write        # rewrite tests/page_snapshot.json
    PYTHONPATH=$PWD python tests/page_snapshot.py --all OUT.json # every user, program and objective (not committed)

Each page is made by the bare program (no compiled file) on the offline engine with DSPy's response cache off,
fresh per (program, objective), users in a fixed order; what is kept is everything the shopper sees (titles,
rationales, product ids in order) and the fallbacks, never timings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parent / "page_snapshot.json"
PROGRAMS = ("top-down", "bottoms-up")
OBJECTIVES = ("relevance", "discovery")
USERS = 6
"""The first USERS bundled users with a history (the committed snapshot)."""


def page_record(page) -> dict:
    return {"placements": [[p.title, p.rationale, [r.product_id for r in p.products]] for p in page.placements],
            "fallbacks": list(page.stats.fallbacks)}


def make_snapshot(users: int | None = USERS, programs=PROGRAMS, objectives=OBJECTIVES) -> dict[str, dict]:
    """{"program/objective/user": page_record} for the first `users` bundled users (None: all)."""
    import dspy

    from themepage.constants import BUNDLED_DATA_DIR
    from themepage.index import CatalogIndex
    from themepage.lm.adapter import MemoChatAdapter
    from themepage.lm.plug import make_lm
    from themepage.programs.registry import LLM_PROGRAMS

    index = CatalogIndex.open(BUNDLED_DATA_DIR)
    user_ids = list(index.histories.user_ids)[:users]
    out = {}
    for program in programs:
        for objective in objectives:
            module = LLM_PROGRAMS[program](index, objective=objective)
            lm = make_lm("offline", index, cache=False)
            with dspy.context(lm=lm, adapter=MemoChatAdapter()):
                for user in user_ids:
                    page = module(user_id=user, history=index.histories.get(user)).page
                    out[f"{program}/{objective}/{user}"] = page_record(page)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT.name}")
    parser.add_argument("--all", metavar="OUT", help="every user, both programs, every objective, to OUT")
    args = parser.parse_args()
    if args.all:
        from themepage.objectives import objective_names

        Path(args.all).write_text(json.dumps(make_snapshot(None, PROGRAMS, tuple(objective_names())), indent=0))
    elif args.write:
        SNAPSHOT.write_text(json.dumps(make_snapshot(), separators=(",", ":"), indent=0) + "\n")
    else:
        parser.print_usage(sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
