"""An OpenAI-compatible HTTP server in front of the offline engine, with fault injection for tests."""

from themepage.server.faults import KINDS, Fault, FaultSchedule
from themepage.server.httpd import OfflineLMServer
from themepage.server.limits import Limits

__all__ = ["KINDS", "Fault", "FaultSchedule", "Limits", "OfflineLMServer"]
