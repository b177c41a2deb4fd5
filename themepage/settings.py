"""LM settings from the command line, environment variables or a config file, in that order of precedence.

Environment: THEMEPAGE_LM, THEMEPAGE_API_BASE, THEMEPAGE_LM_TIMEOUT, THEMEPAGE_LM_RETRIES, THEMEPAGE_LM_ENGINE,
THEMEPAGE_LM_STRUCTURED.
Config file: `themepage.toml` in the working directory (or the file $THEMEPAGE_CONFIG names), table
`[lm]` with keys model, api_base, timeout, retries, engine, structured. Keys for providers stay in their usual
environment variables (OPENAI_API_KEY, ...), never in the config file. Every error names the
setting and where its value came from.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from themepage.constants import DEFAULT_LM, LM_NUM_RETRIES, LM_TIMEOUT_SECONDS

ENV = {"model": "THEMEPAGE_LM", "api_base": "THEMEPAGE_API_BASE", "timeout": "THEMEPAGE_LM_TIMEOUT",
       "retries": "THEMEPAGE_LM_RETRIES", "engine": "THEMEPAGE_LM_ENGINE",
       "structured": "THEMEPAGE_LM_STRUCTURED"}
FLAGS = {"model": "--lm", "api_base": "--api-base", "timeout": "--lm-timeout", "retries": "--lm-retries",
         "engine": "engine=", "structured": "structured="}
CONFIG_FILE = "themepage.toml"
OFFLINE_NAMES = frozenset({"offline", "themepage/offline"})


class LMSettings(BaseModel):
    """Which LM to call, where, and how patiently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = DEFAULT_LM
    api_base: str | None = None
    timeout: float = Field(LM_TIMEOUT_SECONDS, gt=0, le=3600)
    retries: int = Field(LM_NUM_RETRIES, ge=0, le=10)
    engine: Literal["auto", "lm15", "litellm"] = "auto"
    structured: Literal["auto", "json_object", "json_schema", "off"] = "auto"
    """Constrained outputs (themepage.structured): auto = json_object for a llama.cpp server, else off."""

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
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
        return url

    @model_validator(mode="after")
    def _base_needs_provider(self) -> "LMSettings":
        if self.api_base and self.offline:
            raise ValueError("the offline LM makes no HTTP calls; give a provider model (e.g. openai/gpt-4o-mini)")
        return self


class SettingsError(ValueError):
    """Invalid LM settings; the message names the setting and where its value came from."""


def _config_file() -> tuple[dict, str]:
    named = os.environ.get("THEMEPAGE_CONFIG")
    path = Path(named or CONFIG_FILE)
    if not path.is_file():
        if named:
            raise SettingsError(f"THEMEPAGE_CONFIG names {path}, which is not a file")
        return {}, str(path)
    try:
        table = tomllib.loads(path.read_text()).get("lm", {})
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [lm] must be a table")
    if any("key" in name.lower() for name in table):
        raise SettingsError(f"{path} [lm]: API keys belong in the provider's environment variable "
                            "(e.g. OPENAI_API_KEY), not in the config file")
    return dict(table), str(path)


def resolve_lm_settings(**given) -> LMSettings:
    """Command-line values (None = not given) over environment variables over the config file."""
    values, path = _config_file()
    sources = {key: f"{path} [lm] {key}" for key in values}
    for key, var in ENV.items():
        if os.environ.get(var):
            values[key], sources[key] = os.environ[var], var
    for key, value in given.items():
        if value is not None:
            values[key], sources[key] = value, FLAGS.get(key, key)
    try:
        return LMSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(map(str, first["loc"]))
        where = f" (from {sources[key]})" if key in sources else ""
        message = first["msg"].removeprefix("Value error, ")
        if not key:
            key = "api_base"
            where = f" (from {sources['api_base']})"
        raise SettingsError(f"LM setting {key}{where}: {message}") from None
