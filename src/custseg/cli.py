"""`custseg [run] [overrides]` (also `python -m custseg`): run the pipeline; `score`, `drift`
and `inspect` are the other commands, `custseg help` lists them all.

The command line is composed and checked (custseg.config) before anything else happens, so a
typo fails at once with exit code 2 and a message naming the key. A column map that does not
fit the file fails the same way from the preflight (header and first rows, every fault at
once) before an MLflow run exists; what only the full load finds fails inside the run, which
is then marked FAILED in MLflow. No traceback reaches the user.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from custseg.config import Config, ConfigError, load, validate
from custseg.config.compose import CONFIG_NAME, SEARCH_PATH
from custseg.outputs import OutputError, check_output_folders, environment_error
from custseg.redact import install, redact, redact_files

log = logging.getLogger("custseg")
EXIT_INPUT_ERROR = 2  # bad data or a bad command line: the message says what to fix
HELP = """\
usage: custseg [COMMAND] [ARGS]     (python -m custseg ... is the same)

Customer segments, association rules and cross-sell recommendations from retail
transactions, tracked in MLflow.

commands:
  run [OVERRIDES]    the pipeline, and the default: `custseg OVERRIDES` is `custseg run ...`;
                     OVERRIDES are Hydra's key=value (config groups in conf/)
                       custseg data=online_retail features=rfm segment.n_clusters=6
  score ARGS         apply a logged or registered model to a file, as a tracked run
                       custseg score --model models:/custseg/1 --data next.csv --out scores.csv
  serve ARGS         serve a logged or registered model over HTTP (the API of mlflow models
                     serve; a bad request gets a JSON 4xx naming the problem, never a trace)
                       custseg serve --model models:/custseg/1 --port 5001
  dashboard [ARGS]   the segment explorer for the marketing team, over the MLflow store
                       custseg dashboard   (then open http://127.0.0.1:8501/)
  drift [OVERRIDES]  how the segments hold up from one period to the next, as a tracked run
                       custseg drift data=online_retail monitoring.split=2011-07-01
  inspect [OVERRIDES | FILE]
                     a file's columns, the guessed column map and a command line to run it
                       custseg inspect data=csv data.path=sales.csv
  help               this list
custseg-compare [ARGS]  (its own command) the experiment's runs as a table, best first
                       custseg-compare --experiment custseg --data online_retail

more help: custseg run --help (Hydra: config groups and their options), custseg run --cfg job
(the composed config), custseg run --hydra-help, custseg score --help, custseg serve --help,
custseg inspect --help, custseg-compare --help"""


def _internal_error(exc: Exception, out: Path) -> None:
    """One line on stderr; the traceback goes to a file in the run's folder, for a report."""
    trace = out / "traceback.txt"
    trace.write_text(redact(traceback.format_exc()), encoding="utf-8")
    log.error("internal error: %s: %s", type(exc).__name__, redact(str(exc)))
    print(f"custseg: internal error: {type(exc).__name__}: {redact(str(exc))} (the details "
          f"are in {trace}; please report them)", file=sys.stderr)  # fmt: skip
    sys.exit(1)


def _input_error(exc: Exception) -> None:
    """One paragraph on stderr (and in the job log), no traceback: the input is at fault."""
    log.error("%s", exc)
    print(f"custseg: error: {redact(str(exc))}", file=sys.stderr)


def _refuse(message: str) -> None:
    print(f"custseg: error: {redact(message)}", file=sys.stderr)
    sys.exit(EXIT_INPUT_ERROR)


def _precheck(argv: Sequence[str]) -> None:
    """Config mistakes stop before Hydra starts a job. Flags (-m, --cfg, --help, ...) are left
    to Hydra; each job of a sweep is checked when it starts."""
    if any(arg in ("--help", "-h", "--cfg", "-c", "--info", "--hydra-help") for arg in argv):
        return
    try:
        check_output_folders(argv)
    except OutputError as exc:
        _refuse(str(exc))
    if any(arg.startswith("-") for arg in argv):
        return
    try:
        load(argv)
    except ConfigError as exc:
        _refuse(str(exc))


def _project_run(config: Config) -> str | None:
    """`mlflow run` opens its run before custseg starts, in the experiment its own flags name
    (Default without --experiment-name), and hands it over in MLFLOW_RUN_ID. custseg's runs
    belong in tracking.experiment, so when the two differ the job logs a run of its own there,
    carrying the launcher's project and source tags (MLFLOW_RUN_CONTEXT), and the launcher's
    empty run gets a note saying where the results went. Returns that run's id, else None."""
    run_id = os.environ.get("MLFLOW_RUN_ID")
    if not run_id:
        return None
    from mlflow.tracking import MlflowClient

    launcher_uri = os.environ.get("MLFLOW_TRACKING_URI") or config.tracking.uri
    client = MlflowClient(launcher_uri)
    launcher = client.get_run(run_id)
    if launcher.data.tags.get("mlflow.source.type") != "PROJECT":
        return None  # a run someone opened on purpose: log into it
    wanted = config.tracking.experiment
    here = client.get_experiment(launcher.info.experiment_id).name
    if here == wanted and launcher_uri == config.tracking.uri:
        return None
    tags = {k: v for k, v in launcher.data.tags.items()
            if k.startswith(("mlflow.source.", "mlflow.project.", "mlflow.git", "mlflow.user"))}
    os.environ["MLFLOW_RUN_CONTEXT"] = json.dumps({**tags, "custseg.launcher_run": run_id})
    del os.environ["MLFLOW_RUN_ID"]
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    note = (f"custseg logged this `mlflow run` in experiment '{wanted}' (tracking.experiment), "
            f"as the run tagged custseg.launcher_run={run_id}. For one run only: mlflow run . "
            f"--experiment-name {wanted} ...")  # fmt: skip
    client.set_tag(run_id, "custseg.logged_in", wanted)
    client.set_tag(run_id, "mlflow.note.content", note)
    log.warning("mlflow run opened run %s in experiment '%s'; logging into tracking.experiment "
                "'%s' instead (pass --experiment-name %s to mlflow run to skip the placeholder)",
                run_id, here, wanted, wanted)  # fmt: skip
    return run_id


def _job(work: Callable[[Config, Path], None]) -> Callable[[DictConfig], None]:
    """A Hydra job: check the composed config, run `work`, turn input errors into exit 2."""

    def job(cfg: DictConfig) -> None:
        from custseg.data.preflight import preflight  # pandas only when a job runs

        hc = HydraConfig.get()
        redact_files(Path(hc.runtime.output_dir), ".hydra/*.yaml")  # Hydra's copy of argv
        if hc.mode == RunMode.MULTIRUN:
            redact_files(Path(hc.sweep.dir), "multirun.yaml")
        try:
            config = validate(cfg)
            preflight(config.data)  # before the heavy imports and before any MLflow run
            work(config, Path(hc.runtime.output_dir))
        except Exception as exc:
            known = exc if isinstance(exc, ValueError) else environment_error(exc, cfg)
            if known is None:  # a defect of custseg, not of the input: say where to look
                _internal_error(exc, Path(hc.runtime.output_dir))
            _input_error(known)  # SchemaError, ConfigError, a full disk, ... each says why
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
    launcher = _project_run(config)
    result = run(config, artifacts, MlflowHooks(artifacts), command)
    if launcher:
        from mlflow.tracking import MlflowClient

        MlflowClient(os.environ.get("MLFLOW_TRACKING_URI") or config.tracking.uri).set_tag(
            launcher, "custseg.run_id", result.run_id
        )
    log.info("Run %s logged: %s (outputs in %s)", result.run_id, result.run_name, out)


def _drift(config: Config, out: Path) -> None:
    from custseg.monitoring.job import run_drift

    _project_run(config)
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


class Terminated(BaseException):
    """SIGTERM (a scheduler's stop, `kill`): unwinds like Ctrl-C, so the open run is closed
    as FAILED with this reason instead of being left RUNNING."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(f"stopped by signal {signal.Signals(signum).name}")


def main() -> None:
    """Dispatch on the first word; anything that is not a command is the run's overrides."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        _dispatch()
    except (Terminated, KeyboardInterrupt) as exc:
        print(f"custseg: {exc or 'interrupted'}; the open run, if any, is marked FAILED",
              file=sys.stderr)  # fmt: skip
        sys.exit(128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT))


def _no_tracebacks() -> None:
    """Libraries log the exceptions they catch with a traceback (MLflow's store does, before
    re-raising); the user gets custseg's one-paragraph error instead, and a defect's traceback
    goes to traceback.txt in the run's folder."""
    base = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return record

    logging.setLogRecordFactory(factory)


def _dispatch() -> None:
    install()  # secrets masked in every log line and warning from here on
    command, rest = (sys.argv[1:2] or [""])[0], sys.argv[2:]
    if command != "serve":  # a server's log is its operator's: it keeps a failure's traceback
        _no_tracebacks()
    if command in ("help", "-h", "--help"):
        print(HELP)
    elif command == "score":
        from custseg.tracking.score import main as score_main

        score_main(rest)
    elif command == "serve":
        from custseg.tracking.serve import main as serve_main

        serve_main(rest)
    elif command == "dashboard":
        from custseg.dashboard.launch import main as dashboard_main

        dashboard_main(rest)
    elif command == "drift":
        _hydra(_drift, rest)
    elif command == "inspect":
        from custseg.data.inspect import main as inspect_main

        inspect_main(rest)
    elif command == "run":
        _hydra(_run, expand_overrides(rest))
    else:
        _hydra(_run, expand_overrides(sys.argv[1:]))
