"""`python -m custseg [hydra overrides]` (also the `custseg` command)."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("custseg")


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


def _main(cfg: DictConfig) -> None:
    from custseg.data.schema import SchemaError
    from custseg.features import FeatureError
    from custseg.pipeline import run

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    try:
        command = " ".join(["python -m custseg", *map(shlex.quote, hc.overrides.task)])
        result = run(cfg, out / "artifacts", command)
    except (SchemaError, FeatureError, ValueError) as exc:
        log.error("%s", exc)
        if hc.mode == RunMode.MULTIRUN:
            return  # the run is marked FAILED in MLflow; the other jobs of the sweep go on
        sys.exit(2)
    log.info("Run %s logged: %s (outputs in %s)", result.run_id, result.run_name, out)


def _drift(cfg: DictConfig) -> None:
    from custseg.pipeline import run_drift

    out = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_drift(cfg, out / "artifacts")
    except ValueError as exc:
        log.error("%s", exc)
        sys.exit(2)


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


def main() -> None:
    """`custseg [overrides]` runs the pipeline; `custseg score ...` and `custseg drift
    [overrides]` are the two other jobs."""
    command, rest = (sys.argv[1:2] or [""])[0], sys.argv[2:]
    if command == "score":
        from custseg.tracking.score import main as score_main

        score_main(rest, conf_dir())
        return
    if command == "drift":
        sys.argv = [sys.argv[0], *rest]
        hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(_drift)()
        return
    sys.argv = [sys.argv[0], *_expand_overrides(sys.argv[1:])]
    hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")(_main)()
