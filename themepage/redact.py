"""Remove secrets from text that came from a provider before it is printed or written.

A provider's error text is recorded verbatim (a page's `stats.fallbacks`, error lines); some
providers echo the key or the Authorization header back. `redact` replaces the values of the
provider key variables in the environment, any `Bearer <token>`, `api_key=...`-style values and
`sk-...`-shaped keys.
"""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "<redacted>"
SECRET_VARIABLE = re.compile(r"(API_KEY|_KEY|_TOKEN|_SECRET)$")
"""Environment variables whose values are secrets: OPENAI_API_KEY, ANTHROPIC_API_KEY, HF_TOKEN, ..."""
MIN_SECRET_LENGTH = 8
"""Shorter values (a placeholder such as 'x' for a local server) would redact ordinary words."""
BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
KEY_SHAPE = re.compile(r"\b(?:sk|pk|rk|ak)-[A-Za-z0-9_-]{8,}")
KEY_VALUE = re.compile(r"(?i)\b((?:api[_-]?key|token|secret|password)\s*[=:]\s*['\"]?)[^\s'\",;]{4,}")
"""`api_key=...`, `token: ...` and the like, as providers print them in error text."""


def secret_values() -> list[str]:
    """Values of the secret-looking environment variables, longest first (so none masks a longer one)."""
    values = {value for name, value in os.environ.items()
              if SECRET_VARIABLE.search(name.upper()) and len(value) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with key values from the environment, bearer tokens and sk- keys replaced by <redacted>."""
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, REDACTED)
    text = BEARER.sub(lambda match: match.group(1) + REDACTED, text)
    text = KEY_VALUE.sub(lambda match: match.group(1) + REDACTED, text)
    return KEY_SHAPE.sub(REDACTED, text)


def redact_data(value: Any, secrets: list[str] | None = None) -> Any:
    """Every string inside nested dicts and lists redacted (a page's JSON form, a log record)."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: redact_data(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_data(item, secrets) for item in value]
    return value
