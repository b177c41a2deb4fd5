"""Where batch and generate write: devices and FIFOs written through, bad paths one error line before any work,
interrupts, kills and full disks losing no finished page, and no stray temporary file left behind."""

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_pages import FakeRegistry, fake_page

from themepage.cli import batch_pages as batch_module
from themepage.cli.batch_file import PartialPages
from themepage.cli.batch_resume import BatchFileError

USERS = [1, 2, 5, 7]
"""A few of the bundled data's users, in user order."""
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text("".join(f"{user}\n" for user in USERS))
    return path


@pytest.fixture
def genuine(index):
    """A fake page a repurchase run would keep on --resume (its product under its catalog name)."""
    return lambda user: fake_page(user, program="repurchase", product=index.catalog.name(1))


def batch(monkeypatch, capsys, out, users_file, *extra):
    return run_cli(monkeypatch, capsys, "batch", "--program", "repurchase", "--out", str(out), "--users",
                   str(users_file), *extra)


def user_ids(path):
    return [json.loads(line)["user_id"] for line in path.read_text().splitlines()]


def names(folder):
    return sorted(path.name for path in folder.iterdir())


def test_a_device_is_written_through_never_renamed_over(monkeypatch, capsys, tmp_path, users_file):
    """A symlink to /dev/null stands in for the device: renaming over it would replace the link."""
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    code, _, err = batch(monkeypatch, capsys, link, users_file)
    assert code == 0 and f"wrote 4 pages to {link}" in err
    assert link.is_symlink() and stat.S_ISCHR(link.stat().st_mode) and names(tmp_path) == ["null", "users.txt"]
    code, _, err = batch(monkeypatch, capsys, link, users_file, "--resume")
    assert code == 2 and "--resume needs --out to be a regular file" in err


def test_a_fifo_gets_the_pages_in_user_order(monkeypatch, capsys, tmp_path, users_file):
    fifo = tmp_path / "pages.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    code, _, err = batch(monkeypatch, capsys, fifo, users_file)
    reader.join(30)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.stat().st_mode) and names(tmp_path) == ["pages.fifo", "users.txt"]
    assert [json.loads(line)["user_id"] for line in received[0].splitlines()] == USERS


@pytest.mark.parametrize("command", ["batch", "generate"])
@pytest.mark.parametrize("where, message", [
    ("folder", "is a folder: name a file"),
    ("/proc/themepage-test/pages.jsonl", "cannot create a file in /proc/themepage-test"),
    ("/proc/self/status", "cannot create a file in /proc/self"),
])
def test_an_unusable_out_is_one_line_before_any_page(monkeypatch, capsys, tmp_path, users_file, command, where,
                                                     message):
    out = tmp_path / where if where == "folder" else Path(where)
    if where == "folder":
        out.mkdir()
    registry = FakeRegistry(lambda user: fake_page(user)).install(monkeypatch)
    extra = ["--users", str(users_file)] if command == "batch" else ["--user", "1", "--format", "json"]
    code, _, err = run_cli(monkeypatch, capsys, command, "--program", "repurchase", "--out", str(out), *extra)
    assert code == 2 and registry.users == [] and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("html, message", [("file", "is not a folder"), ("/proc/themepage-test", "cannot create")])
def test_an_unusable_html_folder_is_one_line_before_any_page(monkeypatch, capsys, tmp_path, users_file, html,
                                                             message):
    folder = tmp_path / html if html == "file" else Path(html)
    if html == "file":
        folder.write_text("")
    registry = FakeRegistry(lambda user: fake_page(user)).install(monkeypatch)
    code, _, err = batch(monkeypatch, capsys, tmp_path / "pages.jsonl", users_file, "--html", str(folder))
    assert code == 2 and registry.users == [] and message in err and not (tmp_path / "pages.jsonl").exists()


def test_ctrl_c_keeps_the_finished_pages_for_resume(monkeypatch, capsys, tmp_path, users_file, genuine):
    def interrupted_at_the_third(user):
        if user == USERS[2]:
            raise KeyboardInterrupt
        return genuine(user)

    FakeRegistry(interrupted_at_the_third).install(monkeypatch)
    out, partial = tmp_path / "pages.jsonl", tmp_path / "pages.jsonl.partial"
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--concurrency", "1")
    assert code == 130 and f"stopped: 2 new pages kept in {partial} (rerun with --resume to continue)" in err
    assert names(tmp_path) == ["pages.jsonl.partial", "users.txt"] and user_ids(partial) == USERS[:2]
    code, _, err = batch(monkeypatch, capsys, out, users_file)
    assert code == 2 and "add --resume to keep them" in err and user_ids(partial) == USERS[:2]
    registry = FakeRegistry(genuine).install(monkeypatch)
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume")
    assert code == 0 and f"wrote 4 pages to {out} (2 kept, 2 new)" in err
    assert sorted(registry.users) == sorted(USERS[2:]), "only the missing pages are made (in any order: concurrent)"
    assert names(tmp_path) == ["pages.jsonl", "users.txt"] and user_ids(out) == USERS


def test_each_page_is_on_disk_when_made_and_a_torn_last_line_is_skipped(monkeypatch, capsys, tmp_path, users_file,
                                                                       genuine):
    """What a kill -9 at the third page leaves (the partial file as it is then, plus a torn line) is resumed."""
    out, partial = tmp_path / "pages.jsonl", tmp_path / "pages.jsonl.partial"
    seen = []

    def look_at_the_third(user):
        if user == USERS[2]:  # the main thread appends the first two pages as they come back
            for _ in range(1000):
                if partial.read_bytes().count(b"\n") == 2:
                    break
                time.sleep(0.01)
            seen.append(partial.read_bytes())
        return genuine(user)

    FakeRegistry(look_at_the_third).install(monkeypatch)
    assert batch(monkeypatch, capsys, out, users_file, "--concurrency", "1")[0] == 0
    out.unlink()
    partial.write_bytes(seen[0] + b'{"user_id": 5, "progr')
    (tmp_path / ".pages.jsonl.tmp").write_text("left by a kill during the final rename")
    registry = FakeRegistry(genuine).install(monkeypatch)
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume")
    assert code == 0 and "(2 kept, 2 new)" in err and registry.users == USERS[2:]
    assert user_ids(out) == USERS and names(tmp_path) == ["pages.jsonl", "users.txt"]


def test_a_second_batch_on_the_same_output_is_refused(tmp_path):
    first = PartialPages(tmp_path / "pages.jsonl.partial")
    try:
        with pytest.raises(BatchFileError, match="another batch is writing"):
            PartialPages(tmp_path / "pages.jsonl.partial")
    finally:
        first.close()


def test_a_failure_writing_the_final_file_keeps_the_partial_file(monkeypatch, capsys, tmp_path, users_file, genuine):
    def disk_full(*args):
        raise OSError(28, "No space left on device")

    FakeRegistry(genuine).install(monkeypatch)
    monkeypatch.setattr(batch_module, "write_final", disk_full)
    out = tmp_path / "pages.jsonl"
    code, _, err = batch(monkeypatch, capsys, out, users_file)
    assert code == 2 and names(tmp_path) == ["pages.jsonl.partial", "users.txt"]
    assert err.splitlines()[-1] == (f"error: cannot write {out}: No space left on device; stopped after 4 new "
                                    f"pages kept in {out}.partial (rerun with --resume to continue)")
    monkeypatch.undo()
    FakeRegistry(genuine).install(monkeypatch)
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume")
    assert code == 0 and "(4 kept, 0 new)" in err and user_ids(out) == USERS


def test_an_html_page_that_cannot_be_written_stops_and_resume_writes_it(monkeypatch, capsys, tmp_path, users_file,
                                                                        genuine):
    real_write = batch_module.write_document

    def full_at_the_second(path, text):
        if path.name == f"user-{USERS[1]}.html":
            raise OSError(28, "No space left on device")
        real_write(path, text)

    FakeRegistry(genuine).install(monkeypatch)
    monkeypatch.setattr(batch_module, "write_document", full_at_the_second)
    out, html = tmp_path / "pages.jsonl", tmp_path / "html"
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--concurrency", "1", "--html", str(html))
    assert code == 2 and "user-2.html: No space left on device; stopped after 2 new pages kept in" in err
    monkeypatch.setattr(batch_module, "write_document", real_write)
    code, _, err = batch(monkeypatch, capsys, out, users_file, "--resume", "--html", str(html))
    assert code == 0 and "(2 kept, 2 new)" in err
    assert names(html) == sorted(f"user-{user}.html" for user in USERS)


def _limited(limit):
    def start():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return start


def _cli(*args, limit, cwd):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "themepage.cli.app", *args], capture_output=True, text=True,
                          cwd=cwd, env=environment, preexec_fn=_limited(limit), timeout=300, check=False)


def test_a_full_disk_is_one_line_and_keeps_the_pages_made(monkeypatch, capsys, tmp_path, index):
    """`ulimit -f 8`: the partial file stops growing part way; its whole pages stay, and resume finishes."""
    out = tmp_path / "pages.jsonl"
    done = _cli("batch", "--program", "repurchase", "--out", str(out), limit=8192, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot write {out}.partial: File too large; stopped after ") and "--resume" in last
    kept = user_ids(Path(f"{out}.partial"))
    assert kept and f"stopped after {len(kept)} new pages kept in" in last and not out.exists()
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--program", "repurchase", "--out", str(out), "--resume")
    assert code == 0 and f"({len(kept)} kept, {33 - len(kept)} new)" in err


def test_generate_on_a_full_disk_shows_the_page_instead(tmp_path, index):
    out = tmp_path / "page.json"
    out.write_text("old page\n")
    done = _cli("generate", "--user", "1", "--program", "repurchase", "--format", "json", "--out", str(out),
                limit=1024, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == (f"error: cannot write {out}: File too large; the page is "
                                                            "on stdout instead")
    assert json.loads(done.stdout)["user_id"] == 1 and out.read_text() == "old page\n"
    assert names(tmp_path) == ["page.json"]
