"""LM settings from the command line, environment variables or a config file, in that order of precedence.

Environment: THEMEPAGE_LM, THEMEPAGE_API_BASE, THEMEPAGE_LM_TIMEOUT, THEMEPAGE_LM_RETRIES, THEMEPAGE_LM_ENGINE,
THEMEPAGE_PAGE_DEADLINE, THEMEPAGE_LM_STRUCTURED, THEMEPAGE_LM_THEMES. Config file: `themepage.toml` in the working
directory (or the file $THEMEPAGE_CONFIG names), table `[lm]` with keys model, api_base, timeout, retries, engine,
page_deadline, structured, themes; any other table or key is an error naming the file. Keys for providers stay in their
usual environment variables (OPENAI_API_KEY, ...), never in the config file. Every error names the
setting and where its value came from, and `describe_lm` says where a non-default LM's came from.

The store's kind (`dataset.store_kind`) follows the same order: `--store-kind`, then THEMEPAGE_STORE_KIND, then
table `[store]` key `kind` of the config file, then the data directory's `store.toml`, then "grocery store".
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from themepage.constants import DEFAULT_LM, LM_NUM_RETRIES, LM_TIMEOUT_SECONDS, PAGE_DEADLINE_SECONDS
from themepage.dataset.store_kind import Store, StoreError, check_kind, read_store_file

ENV = {"model": "THEMEPAGE_LM", "api_base": "THEMEPAGE_API_BASE", "timeout": "THEMEPAGE_LM_TIMEOUT",
       "retries": "THEMEPAGE_LM_RETRIES", "engine": "THEMEPAGE_LM_ENGINE",
       "page_deadline": "THEMEPAGE_PAGE_DEADLINE", "structured": "THEMEPAGE_LM_STRUCTURED",
       "themes": "THEMEPAGE_LM_THEMES"}
FLAGS = {"model": "--lm", "api_base": "--api-base", "timeout": "--lm-timeout", "retries": "--lm-retries",
         "engine": "engine=", "page_deadline": "--page-deadline", "structured": "structured=",
         "themes": "themes="}
CONFIG_FILE = "themepage.toml"
CONFIG_TABLES = ("lm", "store")
STORE_ENV = "THEMEPAGE_STORE_KIND"
STORE_KEYS = ("kind",)
OFFLINE_NAMES = frozenset({"offline", "themepage/offline"})


class LMSettings(BaseModel):
    """Which LM to call, where, and how patiently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = DEFAULT_LM
    api_base: str | None = None
    timeout: float = Field(LM_TIMEOUT_SECONDS, gt=0, le=3600)
    retries: int = Field(LM_NUM_RETRIES, ge=0, le=10)
    engine: Literal["auto", "lm15", "litellm"] = "auto"
    page_deadline: float = Field(PAGE_DEADLINE_SECONDS, gt=0, le=86400)
    structured: Literal["auto", "json_object", "json_schema", "off"] = "auto"
    """Constrained outputs (themepage.lm.structured): auto = json_object for a llama.cpp server, else off."""
    themes: Literal["auto", "slots", "free"] = "auto"
    """The planner's form under constrained outputs (themepage.lm.planner_form): the code's aisle slots, the model's own
    themes, or auto = the form measured for the model (free for any model not measured)."""

    @property
    def offline(self) -> bool:
        return self.model in OFFLINE_NAMES

    @field_validator("model")
    @classmethod
    def _model_shape(cls, model: str) -> str:
        model = model.strip()
        if model not in OFFLINE_NAMES and not model.partition("/")[2]:
            raise ValueError(f"{model!r} must be 'offline' or 'provider/model' (e.g. openai/gpt-4o-mini)")
        return model

    @field_validator("api_base")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url is not None:
            check_api_base(url)
        return url

    @model_validator(mode="after")
    def _base_needs_provider(self) -> LMSettings:
        if self.api_base and self.offline:
            raise ValueError("the offline LM makes no HTTP calls; give a provider model (e.g. openai/gpt-4o-mini)")
        return self


def check_api_base(url: str) -> None:
    """Raise ValueError unless `url` is a well-formed http(s) URL naming a host (and a valid port, if any).

    A malformed base (`http://[::1:18801/v1`, a port of letters, spaces) would otherwise fail only inside the
    HTTP client, call after call, and every step would fall back: a page of fallbacks instead of a usage error.
    """
    example = "(e.g. http://127.0.0.1:8000/v1)"
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{url!r} is not an http(s) URL {example}")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ValueError(f"{url!r} is not a valid URL: it holds whitespace or control characters {example}")
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL: {exc} {example}") from None
    if not host:
        raise ValueError(f"{url!r} names no host {example}")


class SettingsError(ValueError):
    """Invalid LM settings; the message names the setting and where its value came from."""


def is_loopback_url(url: str | None) -> bool:
    """True when `url` points at this machine (127.0.0.0/8, ::1 or localhost): no key leaves it."""
    return is_loopback(urlsplit(url or "").hostname or "")


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _config_table(name: str) -> tuple[dict, str]:
    """Table `name` of the config file and the file's absolute path; unknown tables are errors."""
    named = os.environ.get("THEMEPAGE_CONFIG")
    path = Path(named or CONFIG_FILE).absolute()
    if not path.is_file():
        if named:
            raise SettingsError(f"THEMEPAGE_CONFIG names {path}, which is not a file")
        return {}, str(path)
    try:
        document = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    unknown = [name for name in document if name not in CONFIG_TABLES]
    if unknown:
        raise SettingsError(f"{path}: unknown table or key {', '.join(map(repr, unknown))}; "
                            f"the file holds the tables [lm] and [store]")
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [{name}] must be a table")
    if any("key" in key.lower() for key in table):
        raise SettingsError(f"{path} [{name}]: API keys belong in the provider's environment variable "
                            "(e.g. OPENAI_API_KEY), not in the config file")
    return dict(table), str(path)


def _config_file() -> tuple[dict, str]:
    """The [lm] table of the config file and the file's absolute path."""
    return _config_table("lm")


def resolve_store(data_dir: Path | str, kind: str | None = None) -> Store:
    """The store of `data_dir`: its kind from the flag value `kind`, THEMEPAGE_STORE_KIND, `[store] kind` of the
    config file or the directory's store.toml (first given wins), else "grocery store"; whether the data is
    Instacart's comes from store.toml alone. A bad value is a SettingsError naming where it came from."""
    try:
        recorded = read_store_file(data_dir) or Store()
    except StoreError as exc:
        raise SettingsError(str(exc)) from None
    table, path = _config_table("store")
    unknown = [key for key in table if key not in STORE_KEYS]
    if unknown:
        raise SettingsError(f"{path} [store]: unknown key {unknown[0]!r}; the table holds kind")
    for value, source in ((kind, "--store-kind"), (os.environ.get(STORE_ENV), STORE_ENV),
                          (table.get("kind"), f"{path} [store] kind")):
        if value is not None and value != "":
            try:
                return Store(check_kind(value), recorded.source)
            except ValueError as exc:
                raise SettingsError(f"store setting kind (from {source}): {exc}") from None
    return recorded


def resolve_lm_settings(**given) -> LMSettings:
    """Command-line values (None = not given) over environment variables over the config file."""
    return resolve_lm_settings_sourced(**given)[0]


def resolve_lm_settings_sourced(**given) -> tuple[LMSettings, dict[str, str]]:
    """The settings and, per setting given anywhere, where it came from (flag, variable or file and key)."""
    values, path = _config_file()
    sources = {key: f"{path} [lm] {key}" for key in values}
    for key, var in ENV.items():
        if os.environ.get(var):
            values[key], sources[key] = os.environ[var], var
    for key, value in given.items():
        if value is not None:
            values[key], sources[key] = value, FLAGS.get(key, key)
    try:
        return LMSettings.model_validate(values), sources
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(map(str, first["loc"]))
        where = f" (from {sources[key]})" if key in sources else ""
        message = first["msg"].removeprefix("Value error, ")
        if not key:
            key = "api_base"
            where = f" (from {sources['api_base']})"
        raise SettingsError(f"LM setting {key}{where}: {message}") from None


def describe_lm(settings: LMSettings, sources: dict[str, str]) -> str | None:
    """One line naming a non-default LM, its base URL and where each came from; None for the offline default."""
    if settings.offline:
        return None
    model = f"LM {settings.model} (from {sources.get('model', 'default')})"
    if settings.api_base is None:
        return f"{model}, the provider's own base URL"
    return f"{model}, base URL {settings.api_base} (from {sources.get('api_base', 'default')})"
