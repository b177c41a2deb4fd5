"""Remove secrets from text that came from a provider or an LM before it is printed or written.

A provider's error text is recorded verbatim (a page's `stats.fallbacks`, error lines); some
providers echo the key or the Authorization header back, and an LM can write it into a title or
rationale. `redact` replaces the values of the provider key variables in the environment (in any
letter case, and their base64 forms, as a Basic auth header or an encoding LM would carry them),
any `Bearer <token>`, `api_key=...`-style values and `sk-...`-shaped keys. Matching ignores case, so
text rewritten after redaction (a capitalised first letter) cannot bring a key back.
"""

from __future__ import annotations

import base64
import os
import re
from functools import lru_cache
from typing import Any

REDACTED = "<redacted>"
SECRET_VARIABLE = re.compile(r"(API_KEY|_KEY|_TOKEN|_SECRET)$")
"""Environment variables whose values are secrets: OPENAI_API_KEY, ANTHROPIC_API_KEY, HF_TOKEN, ..."""
MIN_SECRET_LENGTH = 8
"""Shorter values (a placeholder such as 'x' for a local server) would redact ordinary words."""
BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
KEY_SHAPE = re.compile(r"\b(?:sk|pk|rk|ak)-[A-Za-z0-9_-]{8,}", re.IGNORECASE)
KEY_VALUE = re.compile(r"(?i)\b((?:api[_-]?key|token|secret|password)\s*[=:]\s*['\"]?)[^\s'\",;]{4,}")
"""`api_key=...`, `token: ...` and the like, as providers print them in error text."""


def secret_values() -> list[str]:
    """Values of the secret-looking environment variables, longest first (so none masks a longer one)."""
    values = {value for name, value in os.environ.items()
              if SECRET_VARIABLE.search(name.upper()) and len(value) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def base64_forms(secret: str) -> set[str]:
    """The base64 text `secret` becomes inside any encoded string, at each of the three byte alignments.

    Encoding a prefix of 0, 1 or 2 bytes before the secret and keeping only the characters that depend on
    the secret alone gives what every encoding containing it shows (standard and URL-safe alphabets).
    """
    raw = secret.encode()
    forms = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        start, end = -(-offset * 8 // 6), (offset + len(raw)) * 8 // 6
        middle = encoded[start:end]
        if len(middle) >= MIN_SECRET_LENGTH:
            forms |= {middle, middle.replace("+", "-").replace("/", "_")}
    return forms


@lru_cache(maxsize=16)
def _secret_pattern(secrets: tuple[str, ...]) -> re.Pattern | None:
    """One case-insensitive pattern for the secrets and their base64 forms, longest first."""
    forms = {form for secret in secrets for form in (secret, *base64_forms(secret))}
    if not forms:
        return None
    return re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)), re.IGNORECASE)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with key values from the environment (any case, base64 too), bearer tokens and sk- keys replaced
    by <redacted>."""
    pattern = _secret_pattern(tuple(secret_values() if secrets is None else secrets))
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = BEARER.sub(lambda match: match.group(1) + REDACTED, text)
    text = KEY_VALUE.sub(lambda match: match.group(1) + REDACTED, text)
    return KEY_SHAPE.sub(REDACTED, text)


def redact_data(value: Any, secrets: list[str] | None = None) -> Any:
    """Every string inside nested dicts, lists, tuples and pydantic models redacted (a page's JSON form, a log
    record, an LM's parsed answer)."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: redact_data(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_data(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_data(item, secrets) for item in value)
    # a pydantic model, recognised without importing pydantic (the CLI's --help loads this module)
    if hasattr(value, "model_copy") and hasattr(type(value), "model_fields"):
        return value.model_copy(update={name: redact_data(getattr(value, name), secrets)
                                        for name in type(value).model_fields})
    return value
