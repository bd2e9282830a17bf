"""Rules across the keys a study reads: every point of `segment.search_space` must be a value
the algorithm accepts, and `tuning.selection` must leave some trial it could choose. A study
that could only ever fail, or only ever fall back to an ineligible trial, is a config error:
it is known before any data is read."""

from __future__ import annotations

import math
from typing import Annotated, Any, get_args, get_origin

from pydantic import ValidationError

from custseg.config.base import Section
from custseg.config.errors import ConfigError, from_validation
from custseg.config.schema import GMM, Choices, Config, FloatRange, IntRange, KMeans, Tuning


def _takes_whole_numbers(segment: Section, name: str) -> bool:
    field = type(segment).model_fields.get(name)
    if field is None:
        return False
    kinds = set()
    for tp in (field.annotation, *get_args(field.annotation)):
        while get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        kinds.add(tp)
    return int in kinds and float not in kinds


def _check_point(c: Config, name: str, value: Any, where: str) -> None:
    """`value` (a bound or choice of the search space) must pass the algorithm's own schema."""
    segment = c.segment
    try:
        type(segment).model_validate(segment.dump() | {name: value})
    except ValidationError as exc:
        inner = str(from_validation(exc, type(segment), "segment"))
        key = f"segment.search_space.{name}"
        raise ConfigError(
            f"{key}.{where}={value!r} is a value segment.{name} does not take ({inner}); keep "
            f"the searched values within what segment.{name} accepts",
            key,
        ) from None


def search_space_values(c: Config) -> None:
    """With tuning on, every searched value is one the algorithm accepts: a trial at a bad point
    would fail the study halfway (HDBSCAN's min_cluster_size 1, a k of 1, an unknown
    covariance type), and a log scale needs positive values."""
    if not isinstance(c.tuning, Tuning):
        return
    for name, spec in c.segment.search_space.items():
        key = f"segment.search_space.{name}"
        if isinstance(spec, Choices):
            for i, choice in enumerate(spec.choices):
                _check_point(c, name, choice, f"choices[{i}]")
            continue
        if isinstance(spec, FloatRange) and _takes_whole_numbers(c.segment, name):
            raise ConfigError(
                f"{key}: type float draws fractions, but segment.{name} is a whole number; "
                f"write {key}={{type: int, low: {math.ceil(spec.low)}, high: "
                f"{math.floor(spec.high)}}}",
                key,
            )
        if spec.log and spec.low <= 0:
            raise ConfigError(
                f"{key}.low={spec.low}: a log scale (log: true) needs low above 0; raise "
                f"{key}.low or set {key}.log=false",
                f"{key}.low",
            )
        _check_point(c, name, spec.low, "low")
        _check_point(c, name, spec.high, "high")


def _largest_k(c: Config) -> int | None:
    """The most segments a trial can ask for (k-means and mixtures), else None."""
    if not isinstance(c.segment, KMeans | GMM):
        return None
    spec = c.segment.search_space.get("n_clusters")
    if isinstance(spec, IntRange):
        return spec.high
    if isinstance(spec, Choices):
        return max(int(x) for x in spec.choices)
    return c.segment.n_clusters


def selection_reachable(c: Config) -> None:
    """`tuning.selection` must let some trial be chosen: limits that contradict each other or
    the searched numbers of segments make every trial ineligible, and the study would end in
    its fallback (the best silhouette, whatever its segments look like)."""
    if not isinstance(c.tuning, Tuning):
        return
    sel = c.tuning.selection
    if sel.min_segment_share > sel.max_segment_share:
        raise ConfigError(
            f"tuning.selection.min_segment_share={sel.min_segment_share} is above "
            f"tuning.selection.max_segment_share={sel.max_segment_share}: no segment can be "
            "both; lower the first or raise the second",
            "tuning.selection.min_segment_share",
        )
    if sel.min_segments * sel.min_segment_share > 1:
        most = math.floor(1 / sel.min_segments * 1000) / 1000
        raise ConfigError(
            f"tuning.selection.min_segment_share={sel.min_segment_share} with "
            f"tuning.selection.min_segments={sel.min_segments}: {sel.min_segments} segments "
            f"cannot each hold that share of the customers; set "
            f"tuning.selection.min_segment_share to at most {most}",
            "tuning.selection.min_segment_share",
        )
    k = _largest_k(c)
    if k is None:
        return
    if k < sel.min_segments:
        raise ConfigError(
            f"tuning.selection.min_segments={sel.min_segments} but trials ask for at most {k} "
            f"segments (segment.search_space.n_clusters, or segment.n_clusters when not "
            f"searched): no trial could be chosen; set tuning.selection.min_segments={k} or "
            "search more segments",
            "tuning.selection.min_segments",
        )
    if k * sel.max_segment_share < 1:
        raise ConfigError(
            f"tuning.selection.max_segment_share={sel.max_segment_share}: with at most {k} "
            f"segments the largest holds at least 1/{k} = {1 / k:.3g} of the customers, so no "
            f"trial could be chosen; set tuning.selection.max_segment_share to at least "
            f"{math.ceil(1000 / k) / 1000} (or search more segments)",
            "tuning.selection.max_segment_share",
        )
