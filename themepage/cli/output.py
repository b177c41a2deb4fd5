"""Pages as JSON that always reads back (lone surrogates replaced) with secrets redacted, and fallback summaries."""

from __future__ import annotations

import json
import re
from collections import Counter

from themepage.lm.redact import redact, redact_data
from themepage.page import Page
from themepage.wording.unicode_text import valid_data

FALLBACK = re.compile(r"fallback in (?P<phase>[^:]+): (?P<cause>.*)", re.DOTALL)
CAUSE_CHARS = 80
"""A cause longer than this is cut in summaries (the page's JSON keeps it whole)."""


def page_json(page: Page, indent: int | None = None, made_for: dict | None = None) -> str:
    """The page as JSON: every string redacted, lone surrogates replaced by U+FFFD, non-ASCII escaped.

    `made_for`, when given, is added as a last key (a batch line's record of the run that made it);
    readers of a Page ignore it.
    """
    data = valid_data(redact_data(page.model_dump(mode="json")))
    if made_for is not None:
        data["made_for"] = made_for
    return json.dumps(data, ensure_ascii=True, indent=indent)


def fallback_causes(fallbacks: list[str]) -> Counter[str]:
    """How often each 'phase: cause' occurs; causes redacted and cut to their first line."""
    counts: Counter[str] = Counter()
    for entry in fallbacks:
        match = FALLBACK.match(entry)
        phase, cause = (match["phase"], match["cause"]) if match else ("unknown phase", entry)
        cause = redact(cause).strip().splitlines()[0] if cause.strip() else "no cause given"
        if len(cause) > CAUSE_CHARS:
            cause = cause[:CAUSE_CHARS - 3] + "..."
        counts[f"{phase.strip()}: {cause}"] += 1
    return counts


def summarize_counts(counts: Counter[str]) -> str:
    """'plan: timeout (2), fill: parse error (1)', most frequent first."""
    return ", ".join(f"{cause} ({n})" for cause, n in counts.most_common())


def fallback_line(page: Page) -> str | None:
    """One line summing up a page's fallbacks, or None when it has none."""
    fallbacks = page.stats.fallbacks
    if not fallbacks:
        return None
    noun = "fallback" if len(fallbacks) == 1 else "fallbacks"
    return f"page for user {page.user_id} made with {len(fallbacks)} {noun}: " \
           f"{summarize_counts(fallback_causes(fallbacks))}"
