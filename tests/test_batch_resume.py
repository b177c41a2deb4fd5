"""batch --resume trusts nothing it reads: each kept page is checked as a fresh one, and a file made for
another run (program, objective, LM, data) is refused with one line; whatever batch writes, it reads back."""

import json

import pytest
from cli_runner import run_cli
from fake_pages import FakeRegistry, fake_page

USERS = [1, 2, 5, 7]
"""A few of the bundled data's users, in user order."""


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text("".join(f"{user}\n" for user in USERS))
    return path


def batch(monkeypatch, capsys, out, users_file, *extra, program="repurchase"):
    return run_cli(monkeypatch, capsys, "batch", "--program", program, "--out", str(out), "--users", str(users_file),
                   *extra)


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def made(monkeypatch, capsys, tmp_path, users_file):
    """A finished repurchase batch of USERS, and its lines."""
    out = tmp_path / "pages.jsonl"
    code, _, err = batch(monkeypatch, capsys, out, users_file)
    assert code == 0, err
    return out, lines(out)


def test_every_line_records_what_it_was_made_for(made):
    _, pages = made
    assert [page["user_id"] for page in pages] == USERS
    record = pages[0]["made_for"]
    assert record["program"] == "repurchase" and record["objective"] == "relevance" and record["lm"] == "offline"
    assert len(record["data"]) == 32 and all(page["made_for"] == record for page in pages)


def test_resume_keeps_genuine_pages_and_makes_the_rest(monkeypatch, capsys, users_file, made):
    out, pages = made
    out.write_text("".join(json.dumps(page) + "\n" for page in pages[:2]))
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume")
    assert code == 0 and f"wrote 4 pages to {out} (2 kept, 2 new)" in err
    assert [page["user_id"] for page in lines(out)] == USERS


def _set(path, value):
    def change(page):
        target = page
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _duplicate(page):
    products = page["placements"][0]["products"]
    products[1] = dict(products[0])


@pytest.mark.parametrize("change, message", [
    (_set(["placements", 0, "products", 0, "product_id"], 99999999), "has product 99999999, which is not in the "
                                                                     "catalog"),
    (_set(["placements", 0, "title"], " "), "has an empty title in placement 1"),
    (_duplicate, "twice"),
    (_set(["placements", 0, "products", 0, "name"], "Free Money"), "names product"),
    (_set(["placements"], []), "has no placements"),
    (_set(["placements", 1, "products"], []), "has no products in placement 2"),
    (_set(["program"], "popular"), "was made by program 'popular', not 'repurchase'"),
    (_set(["objective"], "discovery"), "was made for objective 'discovery', not 'relevance'"),
    (_set(["made_for", "lm"], "openai/gpt-4o-mini"), "made for lm 'openai/gpt-4o-mini', not 'offline'"),
    (_set(["made_for", "data"], "0" * 32), "made for data '" + "0" * 32),
    (lambda page: page.pop("made_for"), "no made_for record"),
    (_set(["placements", 0, "products"], "many"), "not a page (placements.0.products"),
])
def test_resume_refuses_a_page_no_fresh_run_would_make(monkeypatch, capsys, users_file, made, change, message):
    out, pages = made
    change(pages[1])
    text = "".join(json.dumps(page) + "\n" for page in pages[:3])
    out.write_text(text)
    registry = FakeRegistry(lambda user: fake_page(user)).install(monkeypatch)
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume")
    assert code == 2 and registry.users == [] and out.read_text() == text
    assert err.count("\n") == 1 and err.startswith(f"error: {out} line 2: ") and message in err, err
    assert "cannot resume" in err and not out.with_name(out.name + ".partial").exists()


def test_resume_refuses_a_file_of_another_program(monkeypatch, capsys, users_file, made):
    out, _ = made
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume", program="popular")
    assert code == 2 and "line 1: made for program 'repurchase', not 'popular'" in err


def test_resume_refuses_a_file_of_other_users(monkeypatch, capsys, tmp_path, made):
    out, _ = made
    fewer = tmp_path / "fewer.txt"
    fewer.write_text("1\n2\n")
    code, _, err = batch(monkeypatch, capsys, out, fewer, "--resume")
    assert code == 2 and "line 3: user 5 is not among this run's users" in err


def test_a_lone_surrogate_is_written_as_valid_json_and_resumed(monkeypatch, capsys, tmp_path, users_file, index):
    """A provider's error text with a lone surrogate, kept in a page, must not make the file unreadable."""
    def page(user):
        made = fake_page(user, program="repurchase", title="Caf\udce9 Picks", product=index.catalog.name(1),
                         fallbacks=["fallback in fill: provider said \ud800 oops"])
        return made

    FakeRegistry(page).install(monkeypatch)
    out = tmp_path / "pages.jsonl"
    code, _, err = batch(monkeypatch, capsys, out, users_file)
    assert code == 0, err
    out.read_bytes().decode("utf-8")
    written = lines(out)
    assert written[0]["placements"][0]["title"] == "Caf\ufffd Picks"
    assert written[0]["stats"]["fallbacks"] == ["fallback in fill: provider said \ufffd oops"]
    out.write_text("".join(json.dumps(page) + "\n" for page in written[:2]))
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume")
    assert code == 0 and "(2 kept, 2 new)" in err, err
