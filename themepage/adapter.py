"""A ChatAdapter that formats each signature's system message once, not on every call.

DSPy's ChatAdapter rebuilds the system message (field lists and JSON schemas of
the typed fields) for every LM call; for a program making a dozen calls a page,
that dominates the time with a fast LM. The message depends only on the
signature class (a changed instruction makes a new class), so it is memoized by it.
"""

from __future__ import annotations

import threading

import dspy

MAX_SIGNATURES = 512


class MemoChatAdapter(dspy.ChatAdapter):
    """dspy.ChatAdapter with the system message memoized per signature class."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._system_messages: dict[tuple[type, str], str] = {}
        self._lock = threading.Lock()

    def format_system_message(self, signature) -> str:
        key = (signature, signature.instructions)
        cached = self._system_messages.get(key)
        if cached is None:
            cached = super().format_system_message(signature)
            with self._lock:
                if len(self._system_messages) >= MAX_SIGNATURES:
                    self._system_messages.clear()
                self._system_messages[key] = cached
        return cached


def default_adapter() -> dspy.Adapter:
    """The configured adapter if the user set one, else the memoizing ChatAdapter."""
    return dspy.settings.adapter or MemoChatAdapter()
