"""LM settings from the command line, environment variables or a config file, in that order of precedence.

Environment: THEMEPAGE_LM, THEMEPAGE_API_BASE, THEMEPAGE_LM_TIMEOUT, THEMEPAGE_LM_RETRIES.
Config file: `themepage.toml` in the working directory (or $THEMEPAGE_CONFIG), table `[lm]`
with keys model, api_base, timeout, retries. Keys for providers stay in their usual
environment variables (OPENAI_API_KEY, ...), never in the config file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from themepage.constants import DEFAULT_LM, LM_NUM_RETRIES, LM_TIMEOUT_SECONDS

ENV = {"model": "THEMEPAGE_LM", "api_base": "THEMEPAGE_API_BASE", "timeout": "THEMEPAGE_LM_TIMEOUT",
       "retries": "THEMEPAGE_LM_RETRIES"}
CONFIG_FILE = "themepage.toml"


class LMSettings(BaseModel):
    """Which LM to call and how patiently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = DEFAULT_LM
    api_base: str | None = None
    timeout: float = Field(LM_TIMEOUT_SECONDS, gt=0)
    retries: int = Field(LM_NUM_RETRIES, ge=0, le=10)


class SettingsError(ValueError):
    """Invalid LM settings; the message names where they came from."""


def _config_file() -> dict:
    path = Path(os.environ.get("THEMEPAGE_CONFIG", CONFIG_FILE))
    if not path.is_file():
        return {}
    try:
        return dict(tomllib.loads(path.read_text()).get("lm", {}))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None


def resolve_lm_settings(**given) -> LMSettings:
    """Command-line values (None = not given) over environment variables over the config file."""
    values = _config_file()
    values.update({key: os.environ[var] for key, var in ENV.items() if os.environ.get(var)})
    values.update({key: value for key, value in given.items() if value is not None})
    try:
        return LMSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(f"LM setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
