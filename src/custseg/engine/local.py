"""The local engine: pandas features, scikit-learn clustering (tuned by Optuna when asked) and
the configured itemset miner, all in this process."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sklearn.pipeline import Pipeline

from custseg.config.schema import Config, Rules, Tuning
from custseg.engine import Segmentation, settle
from custseg.features import builder
from custseg.progress import step
from custseg.rules.baskets import Baskets
from custseg.rules.mining import mine
from custseg.segment.algorithms import build
from custseg.segment.fit import evaluate
from custseg.segment.identity import customer_revenue
from custseg.tuning.selection import Trial


class LocalEngine:
    def segment(
        self, tx: pd.DataFrame, config: Config, on_trial: Callable[[Trial], None] | None = None
    ) -> Segmentation:
        """Features, scaling, the optional Optuna study and the final fit, its segments
        numbered by value and measured for stability (`custseg.engine.settle`)."""
        from custseg.tuning.study import elbow, tune  # Optuna: only when a study runs

        seed = config.seed
        with step(f"features {config.features.name}"):
            features = builder(config.features)
            feats = features.fit_transform(tx)
            transform = features.scaling(seed)
            X = transform.fit_transform(feats)
        algorithm, search, curve = config.segment, None, None
        if isinstance(config.tuning, Tuning):
            with step(f"tune {algorithm.name} (up to {config.tuning.n_trials} trials)"):
                search = tune(X, config, on_trial, customer_revenue(tx, feats.index))
                algorithm = search.params
                if config.tuning.elbow:
                    curve = elbow(X, algorithm, seed, config.metrics, search.trials)
        label = build(algorithm.target, algorithm.params(), seed).label()
        with step(f"segment with {label}"):
            # after a study, the chosen trial's own fit when this process made it
            fitted = search.fitted if search is not None else None
            metrics, labels, est = fitted or evaluate(X, algorithm, seed, config.metrics)
        pipeline = Pipeline([("transform", transform), ("cluster", est)])
        seg = Segmentation(features, feats, X, labels, dict(metrics), pipeline, algorithm, search,
                           curve)  # fmt: skip
        return settle(seg, tx, config)

    def mine(
        self, tx: pd.DataFrame, baskets: Baskets, segments: pd.Series, rules: Rules
    ) -> tuple[pd.DataFrame, dict[str, float]]:
        return mine(baskets, segments, rules)
