"""Business objectives: typed, validated config files (`*.toml` beside this module)."""

from themepage.objectives.config import (
    ADVICE,
    Constraints,
    Gate,
    ObjectiveConfig,
    ObjectiveError,
    load_objective,
    load_objective_file,
    objective_names,
)

__all__ = [
    "ADVICE",
    "Constraints",
    "Gate",
    "ObjectiveConfig",
    "ObjectiveError",
    "load_objective",
    "load_objective_file",
    "objective_names",
]
