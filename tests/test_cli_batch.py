"""batch never loses work: failing users recorded, fail fast when unreachable, atomic output, --resume, summary.

More in test_batch_output.py (paths, interrupts, full disks) and test_batch_resume.py (what resume trusts).
"""

import json

import pytest
from cli_runner import run_cli
from fake_pages import FakeRegistry, fake_page

from themepage.lm.runtime import ProviderUnreachable

USERS = 33
"""Users with a history in the bundled data."""


@pytest.fixture
def users(index):
    """The bundled data's users with a history, in user order."""
    return list(index.histories.user_ids)


@pytest.fixture
def genuine(index):
    """A fake page a repurchase run would keep on --resume (its product under its catalog name)."""
    return lambda user: fake_page(user, program="repurchase", product=index.catalog.name(1))


@pytest.fixture
def lines_of(monkeypatch, capsys, tmp_path, genuine):
    """The line each user's page gets in a finished batch, as --resume must read it back."""
    FakeRegistry(genuine).install(monkeypatch)
    made = tmp_path / "made.jsonl"
    assert batch(monkeypatch, capsys, made)[0] == 0
    lines = {json.loads(line)["user_id"]: line for line in made.read_text().splitlines()}
    made.unlink()
    return lines


def batch(monkeypatch, capsys, out, *extra):
    return run_cli(monkeypatch, capsys, "batch", "--program", "repurchase", "--out", str(out), *extra)


def user_ids(path):
    return [json.loads(line)["user_id"] for line in path.read_text().splitlines()]


def test_one_failing_user_does_not_abort_the_run(monkeypatch, capsys, tmp_path, users):
    def sometimes(user):
        if user == users[2]:
            raise ValueError("bad history")
        return fake_page(user)

    FakeRegistry(sometimes).install(monkeypatch)
    out = tmp_path / "pages.jsonl"
    code, _, err = batch(monkeypatch, capsys, out, "--concurrency", "3")
    written = user_ids(out)
    assert code == 1 and written == users[:2] + users[3:]
    assert f"1 users failed: user {users[2]}: ValueError: bad history" in err


def test_unreachable_provider_stops_the_run_and_keeps_the_old_file(monkeypatch, capsys, tmp_path):
    def unreachable(user):
        raise ProviderUnreachable("name not resolved: llm.example.com")

    registry = FakeRegistry(unreachable).install(monkeypatch)
    out = tmp_path / "pages.jsonl"
    out.write_text("earlier work\n")
    code, _, err = batch(monkeypatch, capsys, out, "--concurrency", "1")
    assert code == 2 and len(registry.users) == 1
    assert err.strip().splitlines()[-1] == ("error: cannot reach the LM provider: name not resolved: "
                                            f"llm.example.com; no page made, {out} left as it was")
    assert out.read_text() == "earlier work\n" and list(tmp_path.iterdir()) == [out]


def test_unreachable_part_way_keeps_the_pages_made(monkeypatch, capsys, tmp_path, users):
    def dies_at_five(user):
        if user >= users[4]:
            raise ProviderUnreachable("connection refused")
        return fake_page(user)

    FakeRegistry(dies_at_five).install(monkeypatch)
    out = tmp_path / "pages.jsonl"
    code, _, err = batch(monkeypatch, capsys, out, "--concurrency", "1")
    partial = tmp_path / "pages.jsonl.partial"
    assert code == 2 and user_ids(partial) == users[:4] and not out.exists()
    assert f"stopped after 4 new pages kept in {partial} (rerun with --resume to continue)" in err


def test_resume_skips_finished_users_and_keeps_user_order(monkeypatch, capsys, tmp_path, users, genuine, lines_of):
    out = tmp_path / "pages.jsonl"
    kept = [users[0], users[1], users[3]]
    out.write_text("".join(lines_of[user] + "\n" for user in kept))
    registry = FakeRegistry(genuine).install(monkeypatch)
    code, _, err = batch(monkeypatch, capsys, out, "--resume")
    assert code == 0 and sorted(registry.users) == [u for u in users if u not in kept]
    assert user_ids(out) == users
    assert f"wrote {USERS} pages to {out} (3 kept, {USERS - 3} new)" in err


@pytest.mark.parametrize("users_in_file, message", [
    (["not json"], "line 1: not a page"),
    ([2, 1], "line 2: user 1 repeated or out of user order"),
    ([1, 1], "line 2: user 1 repeated or out of user order"),
    ([999999], "line 1: user 999999 has no history"),
])
def test_resume_refuses_a_file_it_cannot_continue(monkeypatch, capsys, tmp_path, lines_of, users_in_file, message):
    def line(user):
        if user == 999999:
            return lines_of[1].replace('"user_id": 1,', '"user_id": 999999,')
        return lines_of.get(user, user)

    out = tmp_path / "pages.jsonl"
    out.write_text("\n".join(line(user) for user in users_in_file) + "\n")
    registry = FakeRegistry(lambda user: fake_page(user)).install(monkeypatch)
    code, _, err = batch(monkeypatch, capsys, out, "--resume")
    assert code == 2 and message in err and registry.users == []


def test_lone_surrogate_in_a_title_is_written(monkeypatch, capsys, tmp_path):
    """As U+FFFD: a lone surrogate escape is JSON that strict readers (and --resume) refuse."""
    FakeRegistry(lambda user: fake_page(user, title="Caf\udce9 Picks")).install(monkeypatch)
    out = tmp_path / "pages.jsonl"
    code, _, _ = batch(monkeypatch, capsys, out)
    pages = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0 and len(pages) == USERS and pages[0]["placements"][0]["title"] == "Caf\ufffd Picks"


@pytest.mark.parametrize("limit, code", [(None, 0), ("0.5", 0), ("0.25", 1)])
def test_summary_and_max_fallback_share(monkeypatch, capsys, tmp_path, users, limit, code):
    """The first 10 users of 33 take fallbacks: a share of 10/33 = 0.30."""
    def some_fallbacks(user):
        return fake_page(user, fallbacks=["fallback in fill: timeout"] * (user in users[:10]))

    FakeRegistry(some_fallbacks).install(monkeypatch)
    out = tmp_path / "pages.jsonl"
    extra = ["--max-fallback-share", limit] if limit else []
    got, _, err = batch(monkeypatch, capsys, out, *extra)
    assert got == code
    assert f"wrote {USERS} pages to {out}; 10 with fallbacks: fill: timeout (10)" in err
    assert ("fallback share 0.30 is above --max-fallback-share 0.25" in err) == (code == 1)
