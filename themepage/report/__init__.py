"""Self-contained HTML for people: a page as rows of product cards, and an evaluation report with SVG plots.

Everything is one file with inline CSS and inline SVG: no scripts, no fonts or images fetched, and a
Content-Security-Policy that forbids both, so a page opens the same offline as online.
"""

from themepage.report.html_text import write_document
from themepage.report.page_html import page_html
from themepage.report.report_html import UserRecord, report_html

__all__ = ["UserRecord", "page_html", "report_html", "write_document"]
