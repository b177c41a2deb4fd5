"""Every repository path the docs name in backticks exists, so README.md and docs/ cannot point at moved files.

A path is a backticked word (inline or in a fenced block) with a slash that ends in `/` or a known file
extension, or whose first folder is one of the repository's own. Words that stand for the reader's own files
are not paths of the repository: placeholders (`<objective>`, `{train,dev}`, `*`), absolute and home paths,
URLs, and names in capitals such as `DIR/store.toml`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXTENSIONS = (".py", ".md", ".json", ".jsonl", ".toml", ".csv", ".txt", ".gguf")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`([^`]+)`")
WORD = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?")
PLACEHOLDER = re.compile(r"[<>{}*$~|]|://|^/")
TOP_LEVEL = {p.name for p in ROOT.iterdir()} - {".git", ".venv"}


def code_words(text: str) -> list[str]:
    """Whitespace-separated words of the fenced blocks and inline code spans of a Markdown text."""
    spans = FENCE.findall(text)
    spans += INLINE.findall(FENCE.sub("", text))
    return [word for span in spans for word in span.split()]


def repository_paths(text: str) -> list[str]:
    """The words of `text`'s code that name a path inside the repository (see the module docstring)."""
    found = []
    for raw in code_words(text):
        if PLACEHOLDER.search(raw):
            continue
        word = raw.strip("\"'(),;:")
        if "/" not in word or not WORD.fullmatch(word):
            continue
        first = word.split("/")[0]
        if first.isupper():
            continue  # the reader's own folder: DIR/, MY_STORE/
        if word.endswith("/") or word.endswith(EXTENSIONS) or first in TOP_LEVEL:
            found.append(word)
    return found


def test_the_extractor_finds_paths_and_skips_the_readers_own():
    text = ("Run `python bench/real_lm.py` or see `nope/missing.py` and `themepage/lm/`.\n"
            "```bash\nthemepage batch --out pages.jsonl --html out/pages/\n```\n"
            "Not paths: `DIR/store.toml`, `compiled/<objective>/<program>.json`, `~/.cache/themepage`, "
            "`/usr/lib/chromium/`, `--lm openai/gpt-4o-mini`, `http://127.0.0.1:8001/v1`, `trainsets/{a,b}.jsonl`.")
    assert repository_paths(text) == ["out/pages/", "bench/real_lm.py", "nope/missing.py", "themepage/lm/"]


def test_docs_name_paths_at_all():
    assert len(DOCS) >= 3, "README.md, docs/design.md and docs/results.md"
    assert all(repository_paths(doc.read_text(encoding="utf-8")) for doc in DOCS)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_backticked_path_exists(doc: Path):
    missing = sorted({p for p in repository_paths(doc.read_text(encoding="utf-8")) if not (ROOT / p).exists()})
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"
