"""The HTML page and report in real headless Chromium: no console errors, every title rendered, a screenshot
with real content. Without Chromium the tests fail under CI and are skipped elsewhere."""

import browser
import pytest
from browser import chromium_or_skip, dump_dom, find_chromium, screenshot
from hostile import hostile_page, texts_of
from png_pixels import read_png, variety

from themepage.programs.registry import make_program
from themepage.report import page_html, report_html, write_document
from themepage.report.html_text import clean


@pytest.fixture(scope="module")
def chromium():
    return chromium_or_skip()


def test_finds_the_browser_in_its_package_folder_when_nothing_is_on_path(tmp_path, monkeypatch):
    """Debian's chromium package may put the browser in /usr/lib/chromium/ and nothing on PATH."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    packaged = tmp_path / "usr-lib-chromium" / "chromium"
    packaged.parent.mkdir()
    packaged.write_text("#!/bin/sh\n")
    monkeypatch.setattr(browser, "PACKAGE_BINARIES", (tmp_path / "absent" / "chromium", packaged))
    assert find_chromium() is None, "a file that cannot run is not a browser"
    packaged.chmod(0o755)
    assert find_chromium() == str(packaged)
    on_path = tmp_path / "empty" / "chromium"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert find_chromium() == str(on_path), "PATH comes first"


def _check_screenshot(binary, document, tmp_path, minimum_colours=64):
    png = screenshot(binary, document, tmp_path / "shot.png")
    width, height, pixels = read_png(png)
    colours, commonest = variety(pixels)
    assert (width, height) == (1280, 1600)
    assert colours >= minimum_colours and commonest < 0.98, f"{colours} colours, top one {commonest:.0%}"


def test_console_check_catches_a_script(chromium, tmp_path):
    """The console check can fail: a page whose script errors, and one whose script the CSP blocks."""
    plain, guarded = tmp_path / "plain.html", tmp_path / "guarded.html"
    plain.write_text("<!DOCTYPE html><p>x</p><script>missingFunction()</script>")
    guarded.write_text(page_html(hostile_page()).replace("</main>", "<script>1</script></main>"))
    assert any("missingFunction" in m for m in dump_dom(chromium, plain)[1])
    assert any("Content Security Policy" in m for m in dump_dom(chromium, guarded)[1])


def test_hostile_page_renders_safely(chromium, index, tmp_path):
    page = hostile_page(["fallback in plan: TimeoutError: no answer"])
    document = tmp_path / "page.html"
    write_document(document, page_html(page, index.catalog))
    dom, console = dump_dom(chromium, document)
    titles, starts = texts_of(dom, "h2")
    assert console == []
    assert [t.removesuffix(" fallback") for t in titles[:3]] == [clean(p.title) for p in page.placements]
    assert "script" not in starts and "img" not in starts
    _check_screenshot(chromium, document, tmp_path, minimum_colours=32)


def test_real_page_in_the_browser(chromium, index, lm, tmp_path):
    page = make_program("top-down", index, lm=lm)(1, index.histories.get(1), objective="relevance")
    document = tmp_path / "page.html"
    write_document(document, page_html(page, index.catalog))
    dom, console = dump_dom(chromium, document)
    titles, starts = texts_of(dom, "h2")
    assert console == [] and starts["li"] == 48
    assert titles[:len(page.placements)] == [p.title for p in page.placements]
    _check_screenshot(chromium, document, tmp_path)


def test_report_in_the_browser(chromium, tmp_path):
    stats = {"timings_ms": {"total": 80.0}, "lm_calls": 2}
    records = {name: [{"user_id": u, "ranked": list(range(u, u + 48)), "target": [u + 3, 99, 200 + u],
                       "stats": stats, "scores": {"objective_score": 0.1 * u, "cohesion": 0.5, "diversity": 0.3,
                                                  "novelty": 0.05 * u}} for u in range(1, 6)]
               for name in ("top-down", "bottoms-up", "repurchase")}
    document = tmp_path / "report.html"
    write_document(document, report_html(records, meta={"objective": "relevance"}))
    dom, console = dump_dom(chromium, document)
    headings, starts = texts_of(dom, "h2")
    assert console == [] and starts["svg"] == 6 and starts["polyline"] == 3
    assert headings[0] == "Recall@K, K = 1..48"
    _check_screenshot(chromium, document, tmp_path)
