"""Which LM calls were in flight together, told without reading a clock (for the concurrency tests).

`StepWaves.hold(request)` keeps a call waiting until as many calls of its step (its signature's output
fields) have arrived as the test expects to run at once. Calls made together pass at once; a call made
after the others of its step finished waits out `wait_s` (generous: a slow machine only waits longer) and
its step is recorded in `missed`.
"""

from __future__ import annotations

import threading

from themepage.offline.prompt import parse_prompt


def step_of(request) -> frozenset[str]:
    """The request's step: its signature's output names, as the offline engine reads the prompt."""
    system = request.system if isinstance(request.system, str) else "".join(
        getattr(p, "text", "") for p in (request.system or ()))
    return parse_prompt(system, [(m.role, m.text or "") for m in request.messages]).signature_key


def output_names(signature) -> frozenset[str]:
    return frozenset(signature.output_fields)


class StepWaves:
    def __init__(self, widths: dict[frozenset[str], int], wait_s: float = 30.0):
        self.widths, self.wait_s = widths, wait_s
        self.arrived: dict[frozenset[str], int] = {}
        self.missed: set[frozenset[str]] = set()
        self._gate = threading.Condition()

    def hold(self, request) -> None:
        step = step_of(request)
        with self._gate:
            self.arrived[step] = self.arrived.get(step, 0) + 1
            self._gate.notify_all()
            if not self._gate.wait_for(lambda: self.arrived[step] >= self.widths.get(step, 1), timeout=self.wait_s):
                self.missed.add(step)

    def missed_names(self) -> list[list[str]]:
        return sorted(sorted(step) for step in self.missed)
