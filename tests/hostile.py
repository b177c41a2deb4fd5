"""Pages and evaluation records with untrusted text in every field, for the HTML and browser tests."""

from __future__ import annotations

from html.parser import HTMLParser

from themepage.page import Page, PageStats, Placement, ProductRef

SCRIPT_TITLE = "<script>alert('x')</script> Snacks"
CLOSING_TITLE = 'Pasta </div></section> Night "quoted" & \'single\''
SURROGATE_TITLE = "Breakfast \ud800 Club"
HOSTILE_NAME = '<img src=x onerror="alert(1)"> Milk </div>'


def hostile_page(fallbacks: list[str] | None = None) -> Page:
    """Three rows whose titles, rationales and product names try to break out of the HTML."""
    rows = [Placement(title=SCRIPT_TITLE, rationale="</p><script>document.write(1)</script>",
                      products=[ProductRef(product_id=24852, name=HOSTILE_NAME),
                                ProductRef(product_id=13176, name="Ok")]),
            Placement(title=CLOSING_TITLE, rationale="Because \"you\" <b>love</b> it",
                      products=[ProductRef(product_id=21137, name="Lone \udc00 surrogate \x00 nul")]),
            Placement(title=SURROGATE_TITLE, rationale="",
                      products=[ProductRef(product_id=999999999, name="Not in the catalog")])]
    stats = PageStats(timings_ms={"total": 1234.5, "plan": 300.0}, lm_calls=7, prompt_tokens=4321,
                      completion_tokens=210, fallbacks=fallbacks or [])
    return Page(user_id=1, program="top-down", objective="relevance", placements=rows, stats=stats)


class TextOf(HTMLParser):
    """Collects the text inside every element with the given tag, and counts start tags."""

    def __init__(self, tag: str):
        super().__init__(convert_charrefs=True)
        self.tag, self.depth, self.texts, self.starts = tag, 0, [], {}

    def handle_starttag(self, tag, attrs):
        self.starts[tag] = self.starts.get(tag, 0) + 1
        if tag == self.tag:
            self.depth += 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if tag == self.tag and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += " " + data


def texts_of(document: str, tag: str) -> tuple[list[str], dict[str, int]]:
    """(text of every `tag` element, count of each start tag) in a document."""
    parser = TextOf(tag)
    parser.feed(document)
    return [" ".join(t.split()) for t in parser.texts], parser.starts
