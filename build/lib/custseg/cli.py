"""`custseg [overrides]` (also `python -m custseg`): run the pipeline; `custseg score ...` and
`custseg drift [overrides]` are the other two jobs.

The command line is composed and checked (custseg.config) before anything else happens, so a
typo fails at once with exit code 2 and a message naming the key; bad data fails the same way
from inside the run, which is then marked FAILED in MLflow. No traceback reaches the user.
"""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from custseg.config import Config, ConfigError, load, validate
from custseg.config.compose import CONFIG_NAME, SEARCH_PATH

log = logging.getLogger("custseg")
EXIT_INPUT_ERROR = 2  # bad data or a bad command line: the message says what to fix


def _input_error(exc: Exception) -> None:
    """One paragraph on stderr (and in the job log), no traceback: the input is at fault."""
    log.error("%s", exc)
    print(f"custseg: error: {exc}", file=sys.stderr)


def _precheck(argv: Sequence[str]) -> None:
    """Config mistakes stop before Hydra starts a job. Flags (-m, --cfg, --help, ...) are left
    to Hydra; each job of a sweep is checked when it starts."""
    if any(arg.startswith("-") for arg in argv):
        return
    try:
        load(argv)
    except ConfigError as exc:
        print(f"custseg: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_INPUT_ERROR)


def _job(work: Callable[[Config, Path], None]) -> Callable[[DictConfig], None]:
    """A Hydra job: check the composed config, run `work`, turn input errors into exit 2."""

    def job(cfg: DictConfig) -> None:
        hc = HydraConfig.get()
        try:
            work(validate(cfg), Path(hc.runtime.output_dir))
        except ValueError as exc:  # SchemaError, FeatureError, ConfigError, ... all say why
            _input_error(exc)
            if hc.mode == RunMode.MULTIRUN:
                return  # the run is marked FAILED in MLflow; the other jobs of the sweep go on
            sys.exit(EXIT_INPUT_ERROR)

    return job


def _run(config: Config, out: Path) -> None:
    from custseg.pipeline import run
    from custseg.tracking.hooks import MlflowHooks

    task = HydraConfig.get().overrides.task
    command = " ".join(["python -m custseg", *map(shlex.quote, task)])
    artifacts = out / "artifacts"
    result = run(config, artifacts, MlflowHooks(artifacts), command)
    log.info("Run %s logged: %s (outputs in %s)", result.run_id, result.run_name, out)


def _drift(config: Config, out: Path) -> None:
    from custseg.monitoring.job import run_drift

    run_drift(config, out / "artifacts")


def expand_overrides(argv: list[str]) -> list[str]:
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


def _hydra(work: Callable[[Config, Path], None], argv: list[str]) -> None:
    _precheck(argv)
    sys.argv = [sys.argv[0], *argv]
    main = hydra.main(config_path=SEARCH_PATH, config_name=CONFIG_NAME, version_base="1.3")
    main(_job(work))()


def main() -> None:
    command, rest = (sys.argv[1:2] or [""])[0], sys.argv[2:]
    if command == "score":
        from custseg.tracking.score import main as score_main

        score_main(rest)
    elif command == "drift":
        _hydra(_drift, rest)
    else:
        _hydra(_run, expand_overrides(sys.argv[1:]))
