"""The search space (`segment.search_space`) as Optuna sees it: the grid of a small discrete
space, the sampler that really runs, one trial's suggestions, and the cap to small data."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import optuna

from custseg.config.schema import Choices, IntRange, Segment, Tuning
from custseg.segment.algorithms import ClusteringError

log = logging.getLogger(__name__)
Space = Mapping[str, Any]  # segment.search_space: name -> IntRange | FloatRange | Choices
# tuning.sampler (besides auto, which picks grid or tpe) -> the sampler, seeded
SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}
# parameters that cannot exceed the number of customers minus one (capped for small data)
BOUNDED_BY_CUSTOMERS = ("n_clusters", "min_cluster_size", "min_samples")


def grid(space: Space, limit: int) -> dict[str, list[Any]] | None:
    """Every value of every parameter when the space is discrete (int ranges, categoricals) and
    has at most `limit` points; else None. Sizes are counted before anything is listed."""
    if not space or not all(isinstance(s, IntRange | Choices) for s in space.values()):
        return None
    sizes = [s.high - s.low + 1 if isinstance(s, IntRange) else len(s.choices)
             for s in space.values()]  # fmt: skip
    if math.prod(sizes) > limit:
        return None
    return {name: list(range(s.low, s.high + 1)) if isinstance(s, IntRange) else list(s.choices)
            for name, s in space.items()}  # fmt: skip


def resolve_sampler(tuning: Tuning, space: Space) -> str:
    """The sampler that really runs: `auto` is `grid` when evaluating every point costs no more
    than n_trials (better and cheaper than sampling, and the same in parallel), else `tpe`."""
    if tuning.sampler != "auto":
        return tuning.sampler
    return "grid" if grid(space, tuning.n_trials) is not None else "tpe"


def make_sampler(
    kind: str, space: Space, limit: int, seed: int
) -> tuple[optuna.samplers.BaseSampler, list[dict[str, Any]] | None]:
    """The sampler `kind` names, seeded, and for a grid its points (None for a sampler, whose
    points are not known in advance)."""
    if kind != "grid":
        return SAMPLERS[kind](seed), None
    values = grid(space, limit) or {}
    points = [dict(zip(values, p, strict=True)) for p in itertools.product(*values.values())]
    return optuna.samplers.GridSampler(values, seed=seed), points


def suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    """Config search space -> concrete parameters for one trial."""
    out: dict[str, Any] = {}
    for name, s in space.items():
        if isinstance(s, IntRange):
            out[name] = trial.suggest_int(name, s.low, s.high, log=s.log)
        elif isinstance(s, Choices):
            out[name] = trial.suggest_categorical(name, list(s.choices))
        else:
            out[name] = trial.suggest_float(name, s.low, s.high, log=s.log)
    return out


def within_data(segment: Segment, n: int) -> Segment:
    """Cap count-like ranges at n - 1 customers, so a small file tunes what it can instead of
    failing at the first trial with more segments than customers."""
    space, capped = dict(segment.search_space), False
    for key in BOUNDED_BY_CUSTOMERS:
        s = space.get(key)
        if not isinstance(s, IntRange) or s.high < n:
            continue
        if s.low >= n:
            raise ClusteringError(
                f"segment.search_space.{key}: low={s.low} but the data has only {n} customers; "
                f"lower it below {n} or use more data"
            )
        log.warning("segment.search_space.%s.high %s capped at %d (customers - 1)", key, s.high,
                    n - 1)  # fmt: skip
        space[key], capped = s.model_copy(update={"high": n - 1}), True
    return segment.model_copy(update={"search_space": space}) if capped else segment
