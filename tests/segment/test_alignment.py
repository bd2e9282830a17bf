"""`segment.align_to`: a run takes a logged reference run's segment numbers, so the same number
is the same planted group in both, whichever run has more segments."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custseg.result import RunResult
from custseg.segment.identity import relabel, value_order
from tests.conftest import make_config, run_logged

pytestmark = pytest.mark.slow
# basket features on a small demo: k=4 puts the premium buyers in with the regulars
COMMON = ("features=basket", "data.generator.n_rows=20000", "report=none", "rules=none",
          "recommend=none", "stability.rounds=2")  # fmt: skip


def _run(uri: str, out: Path, k: int, align_to: str | None = None) -> RunResult:
    extra = [f"segment.align_to={align_to}"] if align_to else []
    return run_logged(make_config(f"tracking.uri={uri}", *COMMON, f"segment.n_clusters={k}",
                                  *extra), out)  # fmt: skip


def _majority(r: RunResult) -> dict[int, str]:
    """Segment number -> the planted group most of its customers come from."""
    labels = r.segments["segment"]
    truth = r.source.truth.customers.set_index("customer_id")["segment"].loc[labels.index]
    return truth.groupby(labels.to_numpy()).agg(lambda s: s.value_counts().idxmax()).to_dict()


def _by_value_alone(r: RunResult) -> pd.Series:
    """The numbers the run would have had without alignment (value order)."""
    seg = r.model.training_.segmentation
    raw = seg.pipeline.named_steps["cluster"].estimator_.labels_
    order = value_order(raw, seg.features.index, r.transactions)
    return pd.Series(relabel(raw, order), index=seg.features.index)


def test_aligned_runs_with_four_and_five_segments_share_numbers_for_the_same_groups(
    tracking_uri, tmp_path
):
    four, five = _run(tracking_uri, tmp_path / "4", 4), _run(tracking_uri, tmp_path / "5", 5)
    five_on_four = _run(tracking_uri, tmp_path / "5-4", 5, align_to=four.run_id)
    four_on_five = _run(tracking_uri, tmp_path / "4-5", 4, align_to=five.run_id)
    for run, ref in ((five_on_four, four), (four_on_five, five)):
        mine, theirs = _majority(run), _majority(ref)
        shared = set(mine) & set(theirs)
        assert len(shared) == 4, (mine, theirs)  # every segment of the 4-run has its partner
        assert {s: mine[s] for s in shared} == {s: theirs[s] for s in shared}
        # ... and the same persona for the same number (personas follow behaviour, not numbers)
        keys, ref_keys = ({int(p.segment): p.key for p in r.model.personas_} for r in (run, ref))
        same_group = {s for s in shared if mine[s] == theirs[s]}
        assert {s: keys[s] for s in same_group} == {s: ref_keys[s] for s in same_group}
        # not the value order by coincidence: alignment renumbered some customers
        assert (_by_value_alone(run) != run.segments["segment"]).any()
        # the served model gives the aligned numbers too
        again = run.model.segment(run.transactions, clean=False)
        assert (again.loc[run.segments.index] == run.segments["segment"]).all()
    # five segments aligned to four: the fifth gets the next number; four aligned to five
    # keep five's numbers, one of them unused
    assert set(_majority(five_on_four)) == {0, 1, 2, 3, 4}
    assert set(_majority(four_on_five)) < {0, 1, 2, 3, 4}
