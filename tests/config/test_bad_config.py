"""Every kind of bad config value, and every stage that goes empty, says so in config terms.

The table goes through `custseg.config.load` as the command line does: wrong types, values out
of range, empty values, NaN and infinity, unknown choices, dates and layouts that do not parse,
store URLs with an unknown scheme or a folder that does not exist, and values that contradict
another key. Each must be a ConfigError naming the key, the bad value and what would fix it.
Then what only the data can show: a study where no trial can be scored or every trial fails
(a TuningError), a fit that finds fewer segments than asked (an error below two, else a
warning), rules that come out empty (a warning naming the key to lower). A few cases run the
real command line: exit code 2, the key on stderr, no traceback, and a run that had started
is FAILED in MLflow with the reason.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.datasets import make_blobs

from custseg.config import ConfigError, load
from custseg.config.checks_inputs import DEMO_CATEGORIES
from custseg.notices import collecting
from custseg.rules.mining import mine
from custseg.segment.algorithms import ClusteringError, KMeansSegmenter
from custseg.segment.fit import evaluate
from custseg.tuning.outcome import TuningError
from custseg.tuning.study import tune
from tests.conftest import clean_env
from tests.rules.helpers import TINY, YAML_RULES, baskets_of

CSV = ("data=csv", "data.path=sales.csv")  # composing needs no file: the preflight reads it
OPTUNA = ("tuning=optuna",)


@dataclass(frozen=True)
class Bad:
    id: str
    overrides: tuple[str, ...]
    key: str  # the key the message starts with (ConfigError.key)
    value: str  # the bad value as the message shows it
    fix: str  # a fragment of what would fix it


CASES = [
    # --- wrong type ---------------------------------------------------------------------------
    Bad("seed_text", ("seed=abc",), "seed", "'abc'", "a whole number from 0 to 4294967295"),
    Bad("seed_fraction", ("seed=1.5",), "seed", "1.5", "a whole number from 0"),
    Bad("k_text", ("segment.n_clusters=five",), "segment.n_clusters", "'five'",
        "a whole number at least 2"),
    Bad("support_text", ("rules.min_support=abc",), "rules.min_support", "'abc'",
        "a number above 0 and at most 1"),
    Bad("max_quantity_text", ("clean.max_quantity=abc",), "clean.max_quantity", "'abc'",
        "a number above 0 (or null)"),
    Bad("n_trials_fraction", (*OPTUNA, "tuning.n_trials=1.5"), "tuning.n_trials", "1.5",
        "a whole number at least 1"),
    Bad("screenshot_not_bool", ("report.screenshot=maybe",), "report.screenshot", "'maybe'",
        "not true or false"),
    # --- out of range -------------------------------------------------------------------------
    Bad("n_trials_zero", (*OPTUNA, "tuning.n_trials=0"), "tuning.n_trials", "0", "at least 1"),
    Bad("n_trials_negative", (*OPTUNA, "tuning.n_trials=-3"), "tuning.n_trials", "-3",
        "at least 1"),
    Bad("seed_negative", ("seed=-1",), "seed", "-1", "from 0 to 4294967295"),
    Bad("confidence_above_one", ("rules.min_confidence=2",), "rules.min_confidence", "2",
        "a number from 0 to 1"),
    Bad("max_len_one", ("rules.max_len=1",), "rules.max_len", "1", "at least 2 (or null)"),
    Bad("one_segment", ("segment.n_clusters=1",), "segment.n_clusters", "1", "at least 2"),
    Bad("k_list_zero", ("recommend.evaluate.ks=[0]",), "recommend.evaluate.ks[0]", "0",
        "at least 1"),
    Bad("quantile_low", ("clean.outliers.quantile=0.3",), "clean.outliers.quantile", "0.3",
        "above 0.5 and below 1"),
    Bad("alpha_one", ("rules.significance.alpha=1",), "rules.significance.alpha", "1",
        "above 0 and below 1"),
    Bad("demo_too_small", ("data.generator.n_rows=10",), "data.generator.n_rows", "10",
        "from 100 to 50000000"),
    # --- NaN and infinity ---------------------------------------------------------------------
    Bad("support_nan", ("rules.min_support=nan",), "rules.min_support", "nan",
        "not a finite number"),
    Bad("max_quantity_inf", ("clean.max_quantity=inf",), "clean.max_quantity", "inf",
        "a number above 0 (or null)"),
    Bad("weight_inf", ("recommend.weights.ease=inf",), "recommend.weights.ease", "inf",
        "a number at least 0"),
    Bad("wait_timeout_inf", (*OPTUNA, "tuning.wait_timeout=inf"), "tuning.wait_timeout",
        "inf", "not a finite number"),
    Bad("tol_nan", ("segment.tol=nan",), "segment.tol", "nan", "a number above 0"),
    # --- empty --------------------------------------------------------------------------------
    Bad("run_name_empty", ("run_name=''",), "run_name", "empty", "(or null)"),
    Bad("storage_empty", (*OPTUNA, "tuning.storage=''"), "tuning.storage", "empty",
        "give a value"),
    Bad("cancellation_prefix_empty", ("clean.cancellation_prefix=''",),
        "clean.cancellation_prefix", "empty", "(or null)"),
    Bad("column_empty", (*CSV, "data.columns.customer_id=''"), "data.columns.customer_id",
        "empty", "(or null)"),
    Bad("ks_empty", ("recommend.evaluate.ks=[]",), "recommend.evaluate.ks", "[]",
        "at least 1 value"),
    Bad("demo_segments_empty", ("data.generator.segments=[]",), "data.generator.segments",
        "[]", "at least 1 value"),
    # --- unknown choice -----------------------------------------------------------------------
    Bad("engine_typo", ("rules.engine=fimm",), "rules.engine", "'fimm'", "did you mean 'fim'"),
    Bad("scaler_unknown", ("features.scaler=minmax",), "features.scaler", "'minmax'",
        "standard, robust, quantile, none"),
    Bad("covariance_typo", ("segment=gmm", "segment.covariance_type=fulll"),
        "segment.covariance_type", "'fulll'", "did you mean 'full'"),
    Bad("split_unknown", ("recommend.evaluate.split=random",), "recommend.evaluate.split",
        "'random'", "global, per_customer"),
    # --- dates and layouts that do not parse --------------------------------------------------
    Bad("cutoff_no_date", ("recommend.evaluate.cutoff=2011-13-45",),
        "recommend.evaluate.cutoff", "'2011-13-45'", "a date like 2011-12-10"),
    Bad("reference_date_word", ("features=rfm", "features.reference_date=yesterday"),
        "features.reference_date", "'yesterday'", "a date like 2011-12-10"),
    Bad("drift_split_no_date", ("monitoring.split=abc",), "monitoring.split", "'abc'",
        "a date like 2011-12-10"),
    Bad("date_format_bad_directive", (*CSV, "data.date_format=%Q"), "data.date_format", "'%Q'",
        "bad directive"),
    Bad("date_format_no_year", (*CSV, "data.date_format=day"), "data.date_format", "'day'",
        "%Y-%m-%d or %d/%m/%Y %H:%M (or null"),
    Bad("cleaning_pattern_matches_all", ("clean.non_product_patterns=['.*']",),
        "clean.non_product_patterns[0]", "'.*'", "make it match something"),
    # --- unknown scheme, missing folder -------------------------------------------------------
    Bad("storage_scheme", (*OPTUNA, "tuning.storage=redis://localhost/0"), "tuning.storage",
        "'redis'", "use sqlite:///optuna.db"),
    Bad("storage_typo", (*OPTUNA, "tuning.storage=sqlit:///o.db"), "tuning.storage",
        "'sqlit'", "did you mean 'sqlite'"),
    Bad("storage_in_memory", (*OPTUNA, "tuning.storage=sqlite://"), "tuning.storage",
        "sqlite://", "in-memory"),
    Bad("storage_folder_missing", (*OPTUNA, "tuning.storage=sqlite:///no/such/dir/o.db"),
        "tuning.storage", "sqlite:///no/such/dir/o.db", "'no/such/dir' does not exist"),
    Bad("storage_two_slashes", (*OPTUNA, "tuning.storage=sqlite:/o.db"), "tuning.storage",
        "sqlite:/o.db", "three slashes"),
    Bad("model_scheme", ("monitoring.model=ftp://host/model",), "monitoring.model", "'ftp'",
        "runs:/RUN_ID/model"),
    Bad("tracking_scheme", ("tracking.uri=ftp://host",), "tracking.uri", "'ftp'",
        "sqlite:///mlflow.db"),
    Bad("spark_master", ("engine=spark", "segment=kmeans", "engine.master=locl"),
        "engine.master", "'locl'", "local[N]"),
    # --- inconsistent with another key --------------------------------------------------------
    Bad("shares_crossed", (*OPTUNA, "tuning.selection.min_segment_share=0.6",
                           "tuning.selection.max_segment_share=0.5"),
        "tuning.selection.min_segment_share", "0.6", "lower the first or raise the second"),
    Bad("shares_too_big", (*OPTUNA, "tuning.selection.min_segment_share=0.4"),
        "tuning.selection.min_segment_share", "0.4", "at most 0.333"),
    Bad("giant_limit_unreachable", (*OPTUNA, "tuning.selection.max_segment_share=0.05"),
        "tuning.selection.max_segment_share", "0.05", "at least 0.1"),
    Bad("search_low_above_high", (*OPTUNA, "segment.search_space.n_clusters.low=6",
                                  "segment.search_space.n_clusters.high=4"),
        "segment.search_space.n_clusters", "low 6", "above high 4"),
    Bad("search_value_refused", (*OPTUNA, "segment=hdbscan",
                                 "segment.search_space.min_cluster_size.low=1"),
        "segment.search_space.min_cluster_size", "low=1", "must be at least 2"),
    Bad("search_log_from_zero", (*OPTUNA, "segment=hdbscan",
                                 "segment.search_space.min_samples.low=0"),
        "segment.search_space.min_samples.low", "low=0", "log=false"),
    Bad("search_choice_typo", (*OPTUNA, "segment=gmm",
                               "segment.search_space.covariance_type.choices=[full,fulll]"),
        "segment.search_space.covariance_type", "'fulll'", "did you mean 'full'"),
    Bad("search_float_k", (*OPTUNA, "segment.search_space.n_clusters={type:float,low:3,high:8}"),
        "segment.search_space.n_clusters", "type float", "{type: int, low: 3, high: 8}"),
    Bad("min_segments_unreachable", (*OPTUNA, "segment=gmm", "~segment.search_space.n_clusters",
                                     "segment.n_clusters=2"),
        "tuning.selection.min_segments", "3", "tuning.selection.min_segments=2"),
    Bad("stability_gate_unmeasured", (*OPTUNA, "tuning.stability_rounds=0"),
        "tuning.stability_rounds", "0", "tuning.selection.min_stability=0"),
    Bad("silhouette_sample_above_exact", ("metrics.silhouette_sample_size=30000",),
        "metrics.silhouette_sample_size", "30000", "at most 20000"),
    Bad("lift_unreachable", ("rules.min_lift=60",), "rules.min_lift", "60",
        "at most 50"),
    Bad("consequent_required_and_excluded", ("rules.constraints.consequent_include=[A,B]",
                                             "rules.constraints.consequent_exclude=[B]"),
        "rules.constraints.consequent_include", "['B']", "remove it from one"),
    Bad("rule_sources_without_rules", ("rules=none", "recommend.order=[crosssell,overall_rules]"),
        "recommend.order", "['crosssell', 'overall_rules']", "add a source that needs no rules"),
    Bad("cutoff_with_per_customer", ("recommend.evaluate.split=per_customer",
                                     "recommend.evaluate.cutoff=2011-06-01"),
        "recommend.evaluate.cutoff", "2011-06-01", "recommend.evaluate.cutoff=null"),
    Bad("ks_twice", ("recommend.evaluate.ks=[5,5]",), "recommend.evaluate.ks", "[5]",
        "list each k once"),
    Bad("all_weights_zero", ("recommend.blend=weights", "recommend.weights={ease:0,sar:0,"
                             "similarity:0,crosssell:0,overall_rules:0,favourite:0,popular:0}"),
        "recommend.weights", "weight 0", "recommend.weights.ease=1.0"),
    Bad("outliers_without_columns", ("clean.outliers.method=clip", "clean.outliers.columns=[]"),
        "clean.outliers.columns", "method=clip", "clean.outliers.columns=[quantity,amount]"),
    Bad("constant_and_column", (*CSV, "+data.constants.quantity=1"), "data.constants.quantity",
        "'quantity'", "data.columns.quantity=null"),
    Bad("reader_option_typo", (*CSV, "++data.read_options.sepp=';'"),
        "data.read_options.sepp", "'sepp'", "did you mean 'sep'"),
    Bad("demo_catalogue_too_small", ("data.generator.n_products=20",),
        "data.generator.n_products", "20", "at least 38"),
    Bad("rules_item_absent", (*CSV, "rules.item=category"), "rules.item", "category",
        "rules.item=product_id"),
    Bad("encoding_typo", (*CSV, "data.encoding=utf8x"), "data.encoding", "'utf8x'",
        "did you mean 'utf-8'"),
    Bad("target_typo", ("segment._target_=custseg.segment.algorithms.KMeansSegmenterr",),
        "segment._target_", "'KMeansSegmenterr'", "did you mean 'KMeansSegmenter'"),
    Bad("target_module_missing", ("features._target_=custseg.featurez.rfm.RFM",),
        "features._target_", "'custseg.featurez.rfm'", "there is no module"),
    Bad("spark_with_hdbscan", ("engine=spark", "segment=hdbscan"), "segment", "'hdbscan'",
        "use kmeans or gmm"),
]  # fmt: skip


def test_the_table_covers_every_kind_and_ids_are_unique():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_value_fails_at_composition_naming_key_value_and_fix(
    case: Bad, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # relative store paths count from here
    with pytest.raises(ConfigError) as err:
        load(list(case.overrides))
    message = str(err.value)
    assert err.value.key == case.key, message
    assert case.key in message.split(":")[0], message  # named first, before any explanation
    assert case.value in message, message
    assert case.fix in message, message
    assert "\n" not in message  # one problem, one line


def test_a_missing_database_driver_names_the_package_to_install():
    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed here: the driver is not missing")
    with pytest.raises(ConfigError) as err:
        load([*OPTUNA, "tuning.storage=postgresql://ana:secret@db.example/studies"])
    message = str(err.value)
    assert err.value.key == "tuning.storage"
    assert "pip install psycopg[binary]" in message and "secret" not in message


def test_the_demo_catalogue_check_knows_the_generator_categories():
    from custseg.data.synthetic import CATEGORIES

    assert len(CATEGORIES) == DEMO_CATEGORIES


def test_the_fixes_the_messages_propose_compose(tmp_path, monkeypatch):
    """What the messages tell the user to set is itself a valid config."""
    monkeypatch.chdir(tmp_path)
    for fixed in (
        ["rules.min_lift=50"],
        [*OPTUNA, "tuning.selection.min_segment_share=0.333"],
        [*OPTUNA, "tuning.selection.max_segment_share=0.1"],
        [
            *OPTUNA,
            "segment=gmm",
            "~segment.search_space.n_clusters",
            "segment.n_clusters=2",
            "tuning.selection.min_segments=2",
        ],
        ["data.generator.n_products=38"],
        [*CSV, "data.columns.quantity=null", "+data.constants.quantity=1"],
        [*OPTUNA, f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"],
    ):
        load(fixed)


# --- what only the data shows ------------------------------------------------------------------


def _study(tmp_path: Path, *overrides: str):
    return load([*OPTUNA, f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}",
                 "segment.search_space.n_clusters.high=4", *overrides])  # fmt: skip


def test_a_study_on_identical_customers_ends_with_a_tuning_error(tmp_path):
    X = np.zeros((12, 2))
    with pytest.raises(TuningError) as err:
        tune(X, _study(tmp_path))
    message = str(err.value)
    assert isinstance(err.value, ValueError) and message.startswith("tuning: ")
    assert "none of the 2 trials found two or more segments" in message
    assert (
        "12 customers have only 1 distinct feature profile(s) under features=value_quantity"
        in message
    )
    assert "use a feature set that tells them apart" in message


def test_a_study_whose_every_trial_fails_ends_with_a_tuning_error(tmp_path):
    X = np.ones((12, 2))
    X[3, 1] = np.nan  # every fit refuses it: each trial fails with the same reason
    with pytest.raises(TuningError) as err:
        tune(X, _study(tmp_path))
    message = str(err.value)
    assert message.startswith("tuning: all 2 trials failed")
    assert (
        "{'n_clusters': 3}: 1 customer(s) have missing or infinite features (rows [3])" in message
    )
    assert "narrow segment.search_space" in message


def test_a_study_with_no_eligible_trial_warns_which_limit_to_relax(tmp_path):
    X, _ = make_blobs([300, 150, 50], centers=[[0, 0], [8, 0], [0, 8]], cluster_std=0.4,
                      random_state=0)  # fmt: skip
    config = _study(
        tmp_path,
        "tuning.selection.min_segment_share=0.3",
        "tuning.stability_rounds=0",
        "tuning.selection.min_stability=0",
    )
    warned: dict[str, str] = {}
    with collecting(warned):
        result = tune(X, config)
    note = warned["tuning.no_eligible_trial"]
    assert "no trial met the selection constraints" in note
    assert "tuning.selection.min_segment_share=0.3 (2 of 2 trials)" in note
    assert f"trial {result.chosen.number}" in note and "relax" in note


class FailsAtFour(KMeansSegmenter):
    """k-means that cannot fit four segments (as a mixture can fail at some k on some data): a
    real estimator, plugged in by `segment._target_` as any user's own would be."""

    def fit(self, X: np.ndarray, y: object = None) -> FailsAtFour:
        if self.n_clusters == 4:
            raise ValueError("four segments cannot be fitted here")
        return super().fit(X, y)


def test_a_study_some_of_whose_trials_fail_chooses_from_the_rest_and_says_so(tmp_path):
    X, _ = make_blobs(300, centers=4, random_state=0)
    config = _study(
        tmp_path,
        "segment.search_space.n_clusters.high=5",
        f"segment._target_={__name__}.FailsAtFour",
    )
    warned: dict[str, str] = {}
    with collecting(warned):
        first = tune(X, config)
    assert sorted(t.params["n_clusters"] for t in first.trials) == [3, 5]
    sentence = warned["tuning.failed_trials"]
    assert "1 of 3 trials failed" in sentence
    assert "{'n_clusters': 4}: four segments cannot be fitted here" in sentence
    again = tune(X, config)  # a failed point is settled: the rerun runs nothing new
    assert again.new_trials == 0 and again.chosen.number == first.chosen.number


def test_identical_customers_with_k_segments_asked_is_an_error():
    config = load(["segment.n_clusters=3"])
    with pytest.raises(ClusteringError) as err:
        evaluate(np.zeros((12, 2)), config.segment, 0, config.metrics)
    message = str(err.value)
    assert message.startswith("segment=kmeans with segment.n_clusters=3 found 1 segment")
    assert "only 1 distinct feature profile(s)" in message


def test_fewer_distinct_customers_than_k_is_a_warning_naming_the_k_to_set():
    config = load(["segment.n_clusters=5"])
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), 10, axis=0)
    warned: dict[str, str] = {}
    with collecting(warned):
        metrics, labels, _ = evaluate(X, config.segment, 0, config.metrics)
    assert metrics["n_segments"] == 3 and len(set(labels)) == 3
    sentence = warned["segment.fewer_segments"]
    assert "segment.n_clusters=5 asked for 5 segments but kmeans found 3" in sentence
    assert "only 3 distinct feature profiles" in sentence and "segment.n_clusters=3" in sentence


def _rules(**changes) -> object:
    return YAML_RULES.model_copy(update={"min_item_count": 1, "min_baskets": 1} | changes)


@pytest.mark.parametrize(
    ("rows", "changes", "says"),
    [
        (TINY, {"min_support": 0.7}, ("no item reaches rules.min_support=0.7", "6 of 10 baskets",
                                      "lower rules.min_support to at most 0.6")),
        (["a", "b", "a", "c"], {"min_support": 0.1}, ("every basket holds a single item",
                                                      "rules.basket=customer_day")),
        (TINY, {"min_support": 0.5}, ("no pair of items reaches rules.min_support=0.5",
                                      "4 of 10 baskets", "at most 0.4")),
        (["ab", "ac", "bc", "a", "b", "c"], {"min_support": 0.1, "min_confidence": 0.5},
         ("none of the 6 candidate rules reaches rules.min_confidence=0.5",
          "the highest is 0.333", "lower rules.min_confidence to at most 0.333")),
        (TINY, {"min_support": 0.2, "min_lift": 4.9},
         ("rules.min_lift=4.9", "lower rules.min_lift to at most")),
    ],
    ids=["support_above_every_item", "single_item_baskets", "support_above_every_pair",
         "confidence_above_every_rule", "lift_above_every_rule"],
)  # fmt: skip
def test_rules_that_come_out_empty_say_which_key_to_change(rows, changes, says):
    warned: dict[str, str] = {}
    with collecting(warned):
        found, _ = mine(baskets_of(rows), None, _rules(**changes))
    assert found.empty
    sentence = warned["rules.no_rules"]
    for fragment in says:
        assert fragment in sentence, sentence


def test_rules_found_overall_but_in_no_segment_say_so():
    b = baskets_of(TINY, customers=[f"c{i}" for i in range(10)])
    segments = __import__("pandas").Series({f"c{i}": i % 2 for i in range(10)})
    warned: dict[str, str] = {}
    with collecting(warned):
        found, _ = mine(b, segments, _rules(min_support=0.2, min_baskets=6))
    assert (found["segment"] == "all").all() and len(found)
    assert "rules.min_baskets=6" in warned["rules.no_segment_rules"]


# --- the real command line ---------------------------------------------------------------------


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    return subprocess.run(
        [sys.executable, "-m", "custseg", *args, f"tracking.uri={uri}",
         f"hydra.run.dir={tmp_path / 'out'}"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["seed=abc"], "seed"),
        (["tuning=optuna", "tuning.n_trials=0"], "tuning.n_trials"),
        (["tuning=optuna", "tuning.storage=redis://localhost/0"], "tuning.storage"),
        (["rules.min_confidence=2"], "rules.min_confidence"),
        (["tuning=optuna", "tuning.storage=sqlite:///missing/optuna.db"], "tuning.storage"),
    ],
    ids=["seed_text", "n_trials_zero", "storage_scheme", "confidence_above_one",
         "storage_folder_missing"],
)  # fmt: skip
def test_the_command_line_exits_2_naming_the_key_before_any_run(args, key, tmp_path):
    proc = _cli(tmp_path, *args)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"custseg: error: {key}" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "mlflow.db").exists()  # stopped before any store or run was opened


@pytest.mark.slow
def test_a_study_on_identical_customers_fails_its_run_with_the_reason(tmp_path):
    lines = ["customer_id,invoice_id,invoice_date,product_id,quantity,unit_price,amount"]
    lines += [f"C{i:02d},I{i:03d},2011-02-01 10:00:00,P1,2,3.0,6.0" for i in range(12)]
    (tmp_path / "same.csv").write_text("\n".join(lines) + "\n")
    proc = _cli(tmp_path, "data=csv", f"data.path={tmp_path / 'same.csv'}", "tuning=optuna",
                f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}",
                "segment.search_space.n_clusters.high=4", "tuning.stability_rounds=0",
                "tuning.selection.min_stability=0", "report=none", "recommend=none")  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("custseg: error: ")]
    message = line.removeprefix("custseg: error: ")
    assert message.startswith("tuning: none of the 2 trials found two or more segments")
    assert "features=value_quantity" in message
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("custseg").experiment_id])
    (run,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]  # not the trials
    assert {r.info.status for r in runs if r is not run} == {"FINISHED"}  # both trials ran
    assert run.info.status == "FAILED"
    assert run.data.tags["failure_reason"] == f"TuningError: {message}"
