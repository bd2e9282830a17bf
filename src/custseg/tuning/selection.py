"""Choosing one trial from a finished study, by a documented rule.

The study optimises two objectives (max silhouette, min Davies-Bouldin), so it ends with a
Pareto front, not a winner. The rules below pick one trial, and eligibility comes first so
degenerate answers (too few segments, a giant segment by customers or by revenue, dust
clusters, mostly noise, segments a bootstrap refit does not find again) are never chosen just
because they score well. Nothing here needs Optuna: it works on plain `Trial` records, so it
can re-check a choice from a study's stored trials.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from custseg.config.schema import Selection
from custseg.segment.algorithms import UNASSIGNED
from custseg.tuning.outcome import TuningError

WORST = (-1.0, 1e6)  # objective values of a degenerate trial (one segment or no segment)
STABILITY = "stability.ari_mean"  # a trial's mean bootstrap ARI (custseg.segment.stability)
REVENUE = "max_revenue_share"  # a trial's largest segment share of revenue (data with money)


@dataclass
class Trial:
    """One complete trial: what was tried, what it scored, and how the selection saw it."""

    number: int
    params: dict[str, Any]  # the searched parameters only
    metrics: dict[str, float]
    sizes: list[int] = field(default_factory=list)  # customers per segment, unassigned last
    on_front: bool = False
    eligible: bool = False
    why_not: str = ""


def segment_sizes(labels: np.ndarray) -> list[int]:
    """Customers per segment, largest first; unassigned (-1) customers last."""
    assigned = labels[labels != UNASSIGNED]
    sizes = sorted(np.bincount(assigned).tolist(), reverse=True) if assigned.size else []
    return [s for s in sizes if s] + [int((labels == UNASSIGNED).sum())]


def objectives(metrics: Mapping[str, float]) -> tuple[float, float]:
    """(silhouette, Davies-Bouldin) of a trial; WORST when they are undefined (fewer than two
    segments), so such a trial sits behind every real one on the front."""
    if "silhouette" not in metrics:
        return WORST
    return metrics["silhouette"], metrics["davies_bouldin"]


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Mask of non-dominated rows of (silhouette: max, davies_bouldin: min)."""
    s, d = values[:, 0], values[:, 1]
    front = np.ones(len(values), dtype=bool)
    for i in range(len(values)):
        dominated = (s >= s[i]) & (d <= d[i]) & ((s > s[i]) | (d < d[i]))
        front[i] = not dominated.any()
    return front


def _failures(m: Mapping[str, float], sel: Selection) -> Iterator[tuple[str, str]]:
    """(tuning.selection key, why) for every limit a scored trial's metrics break, in the
    order they are checked."""
    if m["n_segments"] < sel.min_segments:
        yield "min_segments", f"fewer than {sel.min_segments} segments"
    if m["min_segment_share"] < sel.min_segment_share:
        yield "min_segment_share", f"a segment below {sel.min_segment_share:.0%} of customers"
    if m["max_segment_share"] > sel.max_segment_share:
        yield "max_segment_share", f"a segment above {sel.max_segment_share:.0%} of customers"
    if m.get("noise_share", 0.0) > sel.max_noise_share:
        yield "max_noise_share", f"more than {sel.max_noise_share:.0%} unassigned"
    if m.get(REVENUE, 0.0) > sel.max_revenue_share:
        yield "max_revenue_share", f"a segment above {sel.max_revenue_share:.0%} of revenue"
    if m.get(STABILITY, 1.0) < sel.min_stability:
        yield "min_stability", (f"unstable: bootstrap ARI {m[STABILITY]:.2f} below "
                                f"{sel.min_stability:.2f}")  # fmt: skip


UNSCORED = "fewer than two segments"


def failed_gate(m: Mapping[str, float], sel: Selection) -> str | None:
    """The `tuning.selection` key of the first limit a trial fails (None: eligible, or not
    scored at all)."""
    if "silhouette" not in m:
        return None
    return next((key for key, _ in _failures(m, sel)), None)


def eligibility(m: Mapping[str, float], sel: Selection) -> str:
    """Why a trial may not be chosen ("" when it may): the limits of `tuning.selection`.

    The stability gate applies to trials that measured it (`tuning.stability_rounds` > 0): a
    solution a refit on resampled customers does not find again is not one to act on, however
    well it scores on this sample. The revenue limit applies to data with money: a segment
    holding nearly all of it is a giant in value terms (the customers who matter most lumped
    with others, as a silhouette that favours few segments easily does)."""
    if "silhouette" not in m:
        return UNSCORED
    return next((why for _, why in _failures(m, sel)), "")


def _pick_front_best_silhouette(trials: list[Trial], sel: Selection) -> Trial:
    pool = [t for t in trials if t.eligible and t.on_front] or [t for t in trials if t.eligible]
    return max(pool, key=lambda t: (t.metrics["silhouette"], -t.number))


def _pick_parsimonious(trials: list[Trial], sel: Selection) -> Trial:
    """Fewest segments among the eligible trials whose silhouette ties with the best; then
    the most stable, then the lowest Davies-Bouldin."""
    pool = [t for t in trials if t.eligible]
    best = max(t.metrics["silhouette"] for t in pool)
    near = [t for t in pool if t.metrics["silhouette"] >= best - sel.silhouette_tolerance]
    return min(near, key=lambda t: (t.metrics["n_segments"], -t.metrics.get(STABILITY, 0.0),
                                    t.metrics["davies_bouldin"], t.number))  # fmt: skip


# tuning.selection.rule -> the rule (the config schema lists the same names)
RULES: dict[str, Callable[[list[Trial], Selection], Trial]] = {
    "parsimonious": _pick_parsimonious,
    "front_best_silhouette": _pick_front_best_silhouette,
}


class NothingToChoose(TuningError):
    """No trial found two or more segments: there is no segmentation to choose from."""


def _fallback_note(trials: list[Trial], chosen: Trial, sel: Selection) -> str:
    """Which limits kept the trials out, by key, most often first: what to relax."""
    failed = Counter(failed_gate(t.metrics, sel) for t in trials)
    failed.pop(None, None)
    keys = ", ".join(f"tuning.selection.{k}={getattr(sel, k)} ({n} of {len(trials)} trials)"
                     for k, n in failed.most_common())  # fmt: skip
    return (
        f"no trial met the selection constraints ({keys}); chose the best silhouette "
        f"overall, trial {chosen.number} {chosen.params}, which breaks them: relax "
        f"tuning.selection.{failed.most_common(1)[0][0]} or search other parameters "
        "(segment.search_space)"
    )


def select(trials: list[Trial], sel: Selection) -> tuple[Trial, list[str]]:
    """Mark front and eligibility on every trial and pick one by the configured rule; the notes
    say when no trial was eligible and the best silhouette overall was taken instead. Raises
    NothingToChoose when no trial has two or more segments."""
    values = np.array([objectives(t.metrics) for t in trials])
    for t, on in zip(trials, pareto_front(values), strict=True):
        t.on_front = bool(on)
        t.why_not = eligibility(t.metrics, sel)
        t.eligible = not t.why_not
    scored = [t for t in trials if "silhouette" in t.metrics]
    if not scored:
        raise NothingToChoose(
            f"tuning: none of the {len(trials)} trials found two or more segments; search "
            "other parameters (segment.search_space) or use features that tell customers apart"
        )
    if not any(t.eligible for t in trials):
        chosen = max(scored, key=lambda t: t.metrics["silhouette"])
        return chosen, [_fallback_note(trials, chosen, sel)]
    return RULES[sel.rule](trials, sel), []
