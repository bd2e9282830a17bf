"""`python -m custseg [hydra overrides]` (also the `custseg` command)."""

from __future__ import annotations

import gc
import logging
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.errors import (
    ConfigCompositionException,
    MissingConfigException,
    OverrideParseException,
)
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("custseg")
EXIT_INPUT_ERROR = 2  # bad data or a bad command line: the message says what to fix


class ConfigError(ValueError):
    """A command line that does not compose into a config. The message names the override, the
    group or key at fault and the valid choices (Hydra's own lists its search path instead)."""


def project_root() -> Path:
    """The checkout this package is installed from (editable install): it holds conf/."""
    return Path(__file__).resolve().parents[2]


def conf_dir() -> Path:
    path = project_root() / "conf"
    if not path.is_dir():
        raise SystemExit(
            f"custseg: config folder {path} not found; install the project with "
            "`pip install -e .` from its checkout"
        )
    return path


if not OmegaConf.has_resolver("custseg_root"):
    OmegaConf.register_new_resolver("custseg_root", lambda: str(project_root()))


def _compose(overrides: Sequence[str]) -> DictConfig:
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def _first_lines(exc: Exception) -> str:
    """Hydra's message without its config search path and stack-trace advice."""
    text = str(exc).split("Config search path:")[0].split("\nSee https://")[0]
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _override_of(key: str, overrides: Sequence[str]) -> str:
    return next((o for o in overrides if o.lstrip("+~").split("=", 1)[0] == key), key)


def _missing_option(exc: MissingConfigException, overrides: Sequence[str]) -> ConfigError:
    from custseg.data.schema import did_you_mean

    group, _, value = str(exc.missing_cfg_file or "").rpartition("/")
    options = list(exc.options or [])
    if not group:
        return ConfigError(_first_lines(exc))
    return ConfigError(
        f"{_override_of(group, overrides)}: config group '{group}' has no option {value!r}"
        f"{did_you_mean(value, options)}; valid options: {', '.join(options)} "
        f"(the files in conf/{group}/)"
    )


def _unknown_key(exc: ConfigCompositionException, overrides: Sequence[str]) -> ConfigError:
    """'data.colums.x=1': which part of the key does not exist, where, and what does."""
    from custseg.data.schema import did_you_mean

    found = re.search(r"Could not override '([^']+)'", str(exc))
    if not found:
        return ConfigError(_first_lines(exc))
    key = found.group(1)
    override = _override_of(key, overrides)
    try:
        node = _compose([o for o in overrides if o != override])
    except (ConfigCompositionException, OverrideParseException):  # others fail too
        return ConfigError(_first_lines(exc))
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, DictConfig) or part not in node:
            parent = ".".join(parts[:i])
            keys = list(node.keys()) if isinstance(node, DictConfig) else []
            where = f"'{parent}'" if parent else "the config"
            if parent in ("data", "features", "algorithm", "clean") and "name" in node:
                where += f" ({parts[0]}={node['name']})"
            tip = f"To add a new key on purpose, write +{override.lstrip('+')}"
            if key == "data.path":
                tip = "This source reads no file: choose one that does, e.g. data=csv"
            return ConfigError(
                f"{override}: {where} has no key {part!r}{did_you_mean(part, keys)}; "
                f"its keys: {', '.join(map(str, keys))}. {tip}"
            )
        node = node[part]
    return ConfigError(_first_lines(exc))


def check_config(overrides: Sequence[str]) -> DictConfig:
    """Compose the config as `python -m custseg OVERRIDES` would, or raise ConfigError: a typo
    in a group option or key, an unparsable override, or a required value (???) left unset."""
    try:
        cfg = _compose(overrides)
    except MissingConfigException as exc:
        raise _missing_option(exc, overrides) from exc
    except OverrideParseException as exc:
        raise ConfigError(
            f"cannot parse the command line: {_first_lines(exc)}; quote values with spaces or "
            "special characters, e.g. \"data.path='my sales.csv'\""
        ) from exc
    except ConfigCompositionException as exc:
        raise _unknown_key(exc, overrides) from exc
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        group = missing[0].split(".")[0]
        chosen = cfg[group].get("name", "") if isinstance(cfg.get(group), DictConfig) else ""
        raise ConfigError(
            f"{missing[0]} is required{f' with {group}={chosen}' if chosen else ''} and has no "
            f"value; set {missing[0]}=... on the command line"
        )
    return cfg


def _input_error(exc: Exception) -> None:
    """One paragraph on stderr (and in the job log), no traceback: the input is at fault."""
    log.error("%s", exc)
    print(f"custseg: error: {exc}", file=sys.stderr)


def _precheck(argv: Sequence[str]) -> None:
    """Config mistakes stop before Hydra starts the job, with exit code 2 and a message that
    lists the valid choices. Flags (-m, --cfg, --help, ...) are left to Hydra."""
    if any(arg.startswith("-") for arg in argv):
        return
    try:
        check_config(argv)
    except ConfigError as exc:
        print(f"custseg: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_INPUT_ERROR)


def _main(cfg: DictConfig) -> None:
    from custseg.startup import HeadStart

    # the helper processes and the data load start first: they progress (on the other core, and
    # in pyarrow without the interpreter lock) while this process imports the pipeline
    head_start = HeadStart(OmegaConf.to_container(cfg, resolve=True))  # type: ignore[arg-type]

    from custseg.data.schema import SchemaError
    from custseg.features import FeatureError
    from custseg.pipeline import run

    _imports_done()

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    try:
        command = " ".join(["python -m custseg", *map(shlex.quote, hc.overrides.task)])
        result = run(cfg, out / "artifacts", command, head_start)
    except (SchemaError, FeatureError, ValueError) as exc:
        _input_error(exc)
        if hc.mode == RunMode.MULTIRUN:
            return  # the run is marked FAILED in MLflow; the other jobs of the sweep go on
        sys.exit(EXIT_INPUT_ERROR)
    log.info("Run %s logged: %s (outputs in %s)", result.run_id, result.run_name, out)


def _drift(cfg: DictConfig) -> None:
    from custseg.pipeline import run_drift

    _imports_done()

    out = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_drift(cfg, out / "artifacts")
    except ValueError as exc:
        _input_error(exc)
        sys.exit(EXIT_INPUT_ERROR)


def _expand_overrides(argv: list[str]) -> list[str]:
    """`--overrides "a=1 b=2"` -> `a=1 b=2`: `mlflow run` passes all overrides as one quoted
    parameter, which Hydra would read as a single override."""
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--overrides":
            out += shlex.split(next(it, ""))
        elif arg.startswith("--overrides="):
            out += shlex.split(arg.split("=", 1)[1])
        else:
            out.append(arg)
    return out


def _imports_done() -> None:
    """The garbage collector is off while the libraries import (main() turns it off): their
    ~1.5M objects never become garbage, yet the collector walked all of them five times on
    the way in (0.4 s) and again at exit. Freeze them out of every later collection."""
    gc.freeze()
    gc.enable()


def _job_done() -> None:
    """The interpreter's last act is a full collection over every object the job made (0.3 s
    on Online Retail, most of the exit); the process ends now, so its memory goes back to the
    system anyway. Freezing skips that walk; objects are still torn down as usual."""
    gc.disable()
    gc.freeze()


def main() -> None:
    """`custseg [overrides]` runs the pipeline; `custseg score ...` and `custseg drift
    [overrides]` are the two other jobs."""
    try:
        _dispatch()
    finally:
        _job_done()


def _dispatch() -> None:
    gc.disable()  # until the heavy imports are done: see _imports_done
    command, rest = (sys.argv[1:2] or [""])[0], sys.argv[2:]
    if command == "score":
        from custseg.tracking.score import main as score_main

        _imports_done()
        score_main(rest, conf_dir())
        return
    if command == "drift":
        _precheck(rest)
        sys.argv = [sys.argv[0], *rest]
        hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(_drift)()
        return
    sys.argv = [sys.argv[0], *_expand_overrides(sys.argv[1:])]
    _precheck(sys.argv[1:])
    hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(_main)()
