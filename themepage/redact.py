"""Secrets out of error text: API keys and bearer tokens never reach a page's notes, logs or the terminal.

A stop-gap until the CLI branch's helper lands (the lead merges the two): provider errors may
echo the credential they were given ("Incorrect API key provided: sk-...").
"""

from __future__ import annotations

import re

_SECRETS = [
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)\b((?:api[_-]?key|token|secret|password)\s*[=:]\s*['\"]?)[^\s'\",;]{4,}"),
    re.compile(r"()\b(?:sk|pk|rk|ak)-[A-Za-z0-9_-]{8,}"),
]


def redact(text: str) -> str:
    """`text` with API keys, bearer tokens and key=value secrets replaced by '[redacted]'."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda match: f"{match.group(1)}[redacted]", text)
    return text
