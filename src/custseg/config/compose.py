"""Compose the config as the command line does, then check it once, before any work.

The defaults ship inside the package (`custseg.conf`, on Hydra's `pkg://` search path), so an
installed custseg runs from any folder. A command line that does not compose is diagnosed from
the parsed overrides and the config tree (which override names a group option or key that does
not exist, and what does), not from Hydra's error text.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from hydra import compose as hydra_compose
from hydra import initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import ValidationError

from custseg.config.checks import check
from custseg.config.errors import ConfigError, from_validation
from custseg.config.schema import Config
from custseg.hints import did_you_mean

CONFIG_MODULE = "custseg.conf"
SEARCH_PATH = f"pkg://{CONFIG_MODULE}"
CONFIG_NAME = "config"


def project_root() -> Path:
    """The checkout custseg runs from (it holds conf/ and pyproject.toml), or else the working
    folder: relative defaults such as ../shared/data count from there."""
    conf = Path(str(importlib.resources.files(CONFIG_MODULE)))
    if conf.name == "conf" and (conf.parent / "pyproject.toml").exists():
        return conf.parent
    return Path.cwd()


if not OmegaConf.has_resolver("custseg_root"):
    OmegaConf.register_new_resolver("custseg_root", lambda: str(project_root()))


@cache
def groups() -> dict[str, tuple[str, ...]]:
    """Config group -> its options (the YAML files in conf/<group>/)."""
    root = importlib.resources.files(CONFIG_MODULE)
    out = {}
    for entry in root.iterdir():
        if entry.is_dir() and not entry.name.startswith(("_", ".")):
            names = sorted(p.name[:-5] for p in entry.iterdir() if p.name.endswith(".yaml"))
            out[entry.name] = tuple(names)
    return out


def _compose(overrides: Sequence[str]) -> DictConfig:
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        return hydra_compose(CONFIG_NAME, overrides=list(overrides))


def _group_option(line: str, group: str, value: str) -> ConfigError | None:
    options = groups()[group]
    if value in options:
        return None
    return ConfigError(
        f"{line}: config group '{group}' has no option {value!r}{did_you_mean(value, options)}; "
        f"valid options: {', '.join(options)} (the files in conf/{group}/)",
        group,
    )


def _no_such_key(line: str, key: str, node: DictConfig) -> ConfigError:
    """`line` sets `key`, whose last part `node` (the config node above it) does not have."""
    parent, _, part = key.rpartition(".")
    present = node.keys()  # the keys with "???" values too (iterating a DictConfig skips them)
    keys = [str(k) for k in present]
    where = f"'{parent}'" if parent else "the config"
    if "name" in keys and "." not in parent and parent:
        where += f" ({parent}={OmegaConf.select(node, 'name', throw_on_missing=False)})"
    tip = f"To add a new key on purpose, write +{line.lstrip('+')}"
    if key == "data.path":
        tip = "This source reads no file: choose one that does, e.g. data=csv"
    return ConfigError(
        f"{line}: {where} has no key {part!r}{did_you_mean(part, keys)}; its keys: "
        f"{', '.join(keys)}. {tip}",
        key,
    )


def _missing_key(line: str, key: str, base: DictConfig) -> ConfigError | None:
    """The error for `key` when some part of it is not in `base`, else None."""
    node: object = base
    parts = key.split(".")
    for i, part in enumerate(parts):
        keys = list(node.keys()) if isinstance(node, DictConfig) else []  # with "???" values
        if part not in keys:
            if not isinstance(node, DictConfig):
                return None
            return _no_such_key(line, ".".join(parts[: i + 1]), node)
        node = OmegaConf.select(node, part, throw_on_missing=False)  # type: ignore[arg-type]
    return None


def _line_of(key: str, overrides: Sequence[str]) -> str:
    """The override that sets `key` (or a key below it), as the user wrote it."""
    names = [(line, line.lstrip("+~").split("=", 1)[0]) for line in overrides]
    for line, name in names:
        if name == key or name.startswith(f"{key}."):
            return line
    above = [(len(name), line) for line, name in names if key.startswith(f"{name}.")]
    return max(above)[1] if above else key


def _from_exception(overrides: Sequence[str], exc: Exception) -> ConfigError | None:
    """The fast diagnosis, from what the exceptions carry as data: a missing option (its
    group, name and the group's options), or a key missing under a config node (the node
    itself, so its keys are at hand)."""
    if isinstance(exc, MissingConfigException) and exc.missing_cfg_file and exc.options:
        group, _, value = str(exc.missing_cfg_file).rpartition("/")
        if group in groups():
            return _group_option(_line_of(group, overrides), group, value)
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OmegaConfBaseException):
        cause = cause.__cause__
    node = getattr(cause, "parent_node", None)
    full_key = getattr(cause, "full_key", None)
    if not isinstance(node, DictConfig) or not full_key:
        return None
    return _no_such_key(_line_of(str(full_key), overrides), str(full_key), node)


def _diagnose(overrides: Sequence[str], exc: Exception) -> ConfigError:
    """Which override does not compose, and why: from the exception's own data when it has
    it, else by checking each override against the config its groups compose."""
    fast = _from_exception(overrides, exc)
    if fast is not None:
        return fast
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    known = groups()
    chosen = []
    for o in parsed:
        name = o.key_or_group
        if name == "hydra" or name.startswith("hydra."):
            continue
        if name in known:
            if not o.is_delete():
                error = _group_option(o.input_line, name, str(o.value()))
                if error is not None:
                    return error
            chosen.append(o.input_line)
    try:
        base = _compose(chosen)
    except (HydraException, OmegaConfBaseException):
        base = None
    if base is not None:
        for o in parsed:
            name = o.key_or_group
            if name in known or name.startswith("hydra") or o.is_add() or o.is_delete():
                continue
            error = _missing_key(o.input_line, name, base)
            if error is not None:
                return error
    text = str(exc).split("Config search path:")[0].split("\nSee https://")[0]
    return ConfigError(" ".join(line.strip() for line in text.splitlines() if line.strip()))


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The raw composed config (Hydra's DictConfig), or a ConfigError naming the override."""
    try:
        return _compose(overrides)
    except OverrideParseException as exc:
        raise ConfigError(
            f"cannot parse the command line: {str(exc).splitlines()[0]}; quote values with "
            "spaces or special characters, e.g. \"data.path='my sales.csv'\""
        ) from exc
    except (HydraException, OmegaConfBaseException) as exc:
        raise _diagnose(overrides, exc) from exc


def validate(cfg: DictConfig) -> Config:
    """Check a composed config once: required values set, every value of the right type and
    range, cross-field rules kept. Returns the typed config every stage is handed."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        group = missing[0].split(".")[0]
        node = cfg.get(group)
        chosen = node.get("name", "") if isinstance(node, DictConfig) else ""
        raise ConfigError(
            f"{missing[0]} is required{f' with {group}={chosen}' if chosen else ''} and has no "
            f"value; set {missing[0]}=... on the command line",
            missing[0],
        )
    try:
        plain = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        raise ConfigError(f"{key}: cannot resolve: {getattr(exc, 'msg', exc)}", key) from exc
    plain = {k: v for k, v in plain.items() if k != "hydra"}  # type: ignore[union-attr]
    try:
        config = Config.model_validate(plain)
    except ValidationError as exc:
        raise from_validation(exc, Config) from exc
    check(config)
    return config


def load(overrides: Sequence[str] = ()) -> Config:
    """`python -m custseg OVERRIDES`'s config, composed and checked (or a ConfigError)."""
    return validate(compose(overrides))
