"""A tuned run logs the parameters it used under the config's names, every run logs its
bootstrap stability, and custseg-compare shows both and ranks with stability."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from custseg.tracking.compare import main as compare_main
from custseg.tracking.compare import runs_table, segment_params
from tests.conftest import make_config, run_logged

SMALL = ("features=basket", "data.generator.n_rows=20000", "report=none", "rules=none",
         "recommend=none")  # fmt: skip


def test_segment_params_are_the_searched_ones_with_the_values_used():
    params = {"segment.n_clusters": "3", "segment.n_init": "10", "segment.name": "kmeans",
              "segment.search_space.n_clusters.type": "int",
              "segment.search_space.n_clusters.low": "3"}  # fmt: skip
    assert segment_params(params) == "n_clusters=3"
    assert segment_params({"segment.n_clusters": "3"}) == ""  # no search space logged


@pytest.mark.slow
def test_tuned_run_logs_the_chosen_k_and_compare_ranks_with_stability(tracking_uri, tmp_path,
                                                                     capsys):  # fmt: skip
    storage = f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"
    common = (f"tracking.uri={tracking_uri}", *SMALL, "segment.n_clusters=9")
    tuned = run_logged(make_config(*common, "tuning=optuna", storage), tmp_path / "tuned")
    nine = run_logged(make_config(*common), tmp_path / "nine")
    chosen = tuned.model.algorithm_.n_clusters
    assert chosen != 9  # the configured k is not what the study chose: the test means something
    run = MlflowClient(tracking_uri).get_run(tuned.run_id)
    assert run.data.params["segment.n_clusters"] == str(chosen)
    assert run.data.params["chosen.n_clusters"] == str(chosen)
    assert run.data.params["segment.n_init"] == "10"  # not searched: as configured
    m = run.data.metrics
    assert {f"stability.jaccard.{s}" for s in range(chosen)} <= set(m)
    assert m["stability.jaccard_min"] == min(m[f"stability.jaccard.{s}"] for s in range(chosen))
    assert 0.8 <= m["stability.ari_mean"] <= 1.0 and m["stability.rounds"] == 20

    table = runs_table(tracking_uri, "custseg").set_index("run_id")
    assert table.loc[tuned.run_id, "params"] == f"n_clusters={chosen}"
    assert table.loc[nine.run_id, "params"] == "n_clusters=9"
    stab = table["stability.ari_mean"]
    assert stab.notna().all() and stab[tuned.run_id] > stab[nine.run_id]
    # a stability limit between the two: the less stable run drops behind, whatever it scores
    limit = (stab[tuned.run_id] + stab[nine.run_id]) / 2
    strict = runs_table(tracking_uri, "custseg", {"min_stability": limit}).set_index("run_id")
    assert strict.loc[tuned.run_id, "eligible"] and not strict.loc[nine.run_id, "eligible"]
    assert strict.loc[tuned.run_id, "rank"] < strict.loc[nine.run_id, "rank"]
    compare_main(["--tracking-uri", tracking_uri, "--out", str(tmp_path / "cmp")])
    assert f"n_clusters={chosen}" in capsys.readouterr().out
