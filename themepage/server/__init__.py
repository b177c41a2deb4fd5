"""An OpenAI-compatible HTTP server in front of the offline engine, with fault injection for tests."""

from themepage.server.faults import KINDS, Fault, FaultSchedule
from themepage.server.httpd import OfflineLMServer

__all__ = ["KINDS", "Fault", "FaultSchedule", "OfflineLMServer"]
