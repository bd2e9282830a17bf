"""How a study ends without a usable answer, said in config terms: no trial found two or more
segments, every trial failed, or the other workers never finished. Each is a `TuningError`
(a ValueError: the command line exits 2 and the run is marked FAILED with the sentence), and
a study that only partly failed says so through `custseg.notices`. Nothing here needs Optuna.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from custseg.config.schema import Config
from custseg.segment.found import alike_customers, distinct_profiles


class TuningError(ValueError):
    """A study that cannot give a segmentation; the message names the `tuning` or `segment`
    keys to change."""


class StudyTimeout(TuningError, TimeoutError):
    """Other workers' trials made no progress for `tuning.wait_timeout` seconds."""


# segment.name -> what to change when no trial found two or more segments on customers that
# do differ
NO_SEGMENTS_HINT = {
    "kmeans": "search more segments (segment.search_space.n_clusters)",
    "gmm": "search more components or another covariance type (segment.search_space)",
    "hdbscan": "lower segment.search_space.min_cluster_size.low (and min_samples), so smaller "
               "groups count as segments, or use segment=kmeans",
}  # fmt: skip


def nothing_found(X: np.ndarray, config: Config, found: Sequence[int]) -> TuningError:
    """No complete trial found two or more segments: why, and what to change."""
    distinct = distinct_profiles(X)
    why = (alike_customers(len(X), distinct, config.features.name) if distinct < 2
           else NO_SEGMENTS_HINT.get(config.segment.name, "search other parameters "
                                     "(segment.search_space)"))  # fmt: skip
    counts = sorted(set(found))
    return TuningError(
        f"tuning: none of the {len(found)} trials found two or more segments (they found "
        f"{', '.join(map(str, counts))} segment(s)): {why}"
    )


def _listed(failures: Sequence[tuple[int, Mapping[str, Any], str]], most: int = 3) -> str:
    shown = "; ".join(f"trial {n} {dict(p)}: {why}" for n, p, why in failures[:most])
    return shown + (f"; and {len(failures) - most} more" if len(failures) > most else "")


def all_failed(failures: Sequence[tuple[int, Mapping[str, Any], str]]) -> TuningError:
    """Every trial's fit raised: the study has nothing to choose from."""
    return TuningError(
        f"tuning: all {len(failures)} trials failed, so there is no segmentation to choose: "
        f"{_listed(failures)}. Fix what the messages name, or narrow segment.search_space to "
        "values that fit this data"
    )


def some_failed(failures: Sequence[tuple[int, Mapping[str, Any], str]], total: int) -> str:
    """The warning for a study some of whose trials failed (the rest were chosen from)."""
    return (f"tuning: {len(failures)} of {total} trials failed and were left out of the "
            f"choice: {_listed(failures)}. Narrow segment.search_space to leave those points "
            "out")  # fmt: skip
