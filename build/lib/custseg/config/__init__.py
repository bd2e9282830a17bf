"""The typed config: Hydra composes conf/, `validate` checks it once, stages get `Config`."""

from custseg.config.compose import compose, groups, load, project_root, validate
from custseg.config.errors import ConfigError
from custseg.config.schema import Config

__all__ = ["Config", "ConfigError", "compose", "groups", "load", "project_root", "validate"]
