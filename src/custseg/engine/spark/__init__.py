"""engine=spark: features (Spark SQL), clustering (pyspark.ml) and FP-growth (pyspark.ml.fpm) on
Apache Spark, on this machine (`local[N]`) or a cluster (`spark://HOST:PORT`, `yarn`).

The engine hands the customer model what the local engine hands it (`Segmentation`; the rules
frame of `custseg.rules.mining.mine`), so the model is the same class whichever engine fitted it,
and it scores new customers without pyspark: its feature builder is the local one, fitted on the
same lines, and its segmenter a scikit-learn Pipeline holding the numbers Spark fitted
(`custseg.engine.spark.model`). pyspark is imported only when the engine runs: installing
custseg without the `spark` extra, loading a Spark-fitted model or building this class (as
`make_engine` does) never needs it or a JVM.

Modules: `session` (the one SparkSession), `features`, `clustering`, `mining` (on Spark),
`model` (pyspark-free scoring), `stages` (the engine's two stages, built from those).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd

from custseg.config.schema import Config, Rules
from custseg.engine import settle

if TYPE_CHECKING:
    from custseg.engine import Segmentation
    from custseg.rules.baskets import Baskets
    from custseg.tuning.selection import Trial


def _stages() -> ModuleType:
    """custseg.engine.spark.stages, or an error saying how to get pyspark."""
    try:
        return importlib.import_module("custseg.engine.spark.stages")
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pyspark", "py4j"):
            raise
        raise ImportError(
            "engine=spark needs pyspark, which is not installed: pip install 'custseg[spark]' "
            "(plus a Java 17 runtime), or run with engine=local"
        ) from exc


class SparkEngine:
    """The `SegmentEngine` of conf/engine/spark.yaml: its settings are the block's keys."""

    def __init__(
        self, master: str, app_name: str, conf: Mapping[str, str], parallelism: int
    ) -> None:
        self.master = master
        self.app_name = app_name
        self.conf = {str(k): str(v) for k, v in conf.items()}
        self.parallelism = int(parallelism)

    def __repr__(self) -> str:
        return (f"SparkEngine(master={self.master!r}, app_name={self.app_name!r}, "
                f"conf={self.conf!r}, parallelism={self.parallelism})")  # fmt: skip

    def _settings(self, stages: ModuleType) -> object:
        return stages.Settings(self.master, self.app_name, dict(self.conf), self.parallelism)

    def segment(
        self, tx: pd.DataFrame, config: Config, on_trial: Callable[[Trial], None] | None = None
    ) -> Segmentation:
        """Features in Spark SQL, `segment.n_init` pyspark.ml fits with the block's max_iter
        and tol, the best kept; then numbered and measured as the local engine's (`settle`:
        its stability refits the local algorithm on the collected scaled features).
        `on_trial` is unused (no study runs on Spark)."""
        stages = _stages()
        return settle(stages.segment(tx, config, self._settings(stages)), tx, config)

    def mine(
        self, tx: pd.DataFrame, baskets: Baskets, segments: pd.Series, rules: Rules
    ) -> tuple[pd.DataFrame, dict[str, float]]:
        """`custseg.rules.mining.mine(baskets, segments, rules)`, itemsets by Spark's FP-growth
        (`tx` is not needed: the baskets are)."""
        stages = _stages()
        return stages.mine(baskets, segments, rules, self._settings(stages))


__all__ = ["SparkEngine"]
