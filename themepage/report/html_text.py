"""Safe text for HTML: every untrusted string (product names, LM titles) is cleaned, then escaped.

Escaping alone is not enough for text a model wrote: a lone surrogate cannot be encoded as UTF-8
(writing the file would fail) and C0 control characters are parse errors in HTML, so both become
U+FFFD before `html.escape` turns markup characters and quotes into entities.
"""

from __future__ import annotations

import html
import re

_UNSAFE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
REPLACEMENT = "\ufffd"

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""No scripts, no network: only the document's own inline styles (and data: images) may load."""


def clean(text: object) -> str:
    """`text` as a str with lone surrogates and control characters replaced by U+FFFD."""
    return _UNSAFE.sub(REPLACEMENT, str(text))


def esc(text: object) -> str:
    """`text` cleaned and escaped for element content and quoted attribute values."""
    return html.escape(clean(text), quote=True)


def document(title: str, css: str, body: str) -> str:
    """A whole HTML5 document: charset, the CSP that forbids scripts and fetches, inline CSS, `body` (trusted)."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def write_document(path, text: str) -> None:
    """Write a document as UTF-8, making its folder (the text is already cleaned, so encoding cannot fail)."""
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


INSTACART_CREDIT = "Products from the Instacart Online Grocery Shopping Dataset 2017."


def data_credit(store=None) -> str:
    """Where the products come from, escaped: the Instacart dataset (credited) for its data or when the store is not
    given, else the store's own catalog, named by its kind (a `themepage.dataset.store_kind.Store`)."""
    if store is None or store.instacart:
        return INSTACART_CREDIT
    return f"Products from the {esc(store.kind)}'s own catalog."
