"""CustomerModel: everything a run learns, as one fitted object, so what is evaluated is what is
deployed.

In scikit-learn's manner it is configured in `__init__` (the typed config) and learns in `fit`
(attributes ending in `_`): the feature builder, scaler and clusterer, the personas, the rules
of every scope and the fitted recommenders with their blend. The run fits it once on all data
and logs `recommend`'s lists; the time-split evaluation fits the same class on the past and
calls the same `recommend`; MLflow serves this object (`score`), and `custseg score` and
`custseg drift` load and call it. Only the cleaning rules, the fitted parts and the small
per-segment tables travel with it: the training tables a run logs (`training_`) stay behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from custseg import serving
from custseg.clean import CleaningReport, clean
from custseg.config.schema import Config, Recommend, Rules, Value
from custseg.data.schema import CANONICAL, has_column, validate
from custseg.data.sources import map_columns
from custseg.engine import Segmentation, SegmentEngine, make_engine
from custseg.features import align_columns
from custseg.profiling.personas import Persona, assign_personas
from custseg.profiling.profiles import Profiles, customer_descriptors, profile
from custseg.profiling.value import value_profile
from custseg.progress import step
from custseg.recommend.expected import ExpectedValue, learn_expected, rerank
from custseg.recommend.history import History, histories
from custseg.recommend.learned import BlendChoice, learn_blend
from custseg.recommend.recommenders import (
    BLEND,
    Recommender,
    Rerank,
    fit_recommenders,
    recommend_lengths,
)
from custseg.recommend.together import bought_together
from custseg.redact import redact_fields
from custseg.rules.baskets import make_baskets
from custseg.value import ValueModel

RFM_SETS = ("rfm", "rfm_region")  # feature sets whose personas carry an RFM label
ADDITIVE = ("region_", "cat_")  # feature columns that may be absent from a features table


@dataclass
class Training:
    """What fitting saw, for the run to log and report; not part of the deployable model."""

    segmentation: Segmentation
    value: pd.DataFrame | None = None  # the value stage's table of every training customer
    rule_seconds: dict[str, float] = field(default_factory=dict)
    baskets: int = 0
    dropped_items: int = 0
    catalogue: int = 0  # items a recommender could pick (after rules.min_item_count)


class CustomerModel:
    """Segments, personas and recommendations for any customers' transactions."""

    def __init__(self, config: Config, describe: bool = True) -> None:
        """`describe=False` leaves out the profiles and personas: a model fitted only to be
        asked for segments and recommendations (the evaluation's model of the past)."""
        self.config = config
        self.describe = describe

    # -- learning -----------------------------------------------------------------------------
    def prepare(self, transactions: pd.DataFrame) -> tuple[pd.DataFrame, CleaningReport]:
        """Canonical, validated and cleaned lines, by this model's cleaning rules. Columns a
        source may derive (amount, unit price, invoice = customer x day) are derived here too,
        so a served payload needs no more than a file source would."""
        given = [c for c in CANONICAL if c in transactions.columns]
        mapped, _, _ = map_columns(
            transactions[given], "model input", {c: c for c in given}, {}, None
        )
        return clean(validate(mapped, "model input"), self.config.clean)

    def fit(
        self, transactions: pd.DataFrame, on_trial: Callable[[Any], None] | None = None
    ) -> CustomerModel:
        """Learn from cleaned lines (`prepare`'s output; the run's clean stage gives them)."""
        cfg = self.config
        tx = transactions
        engine = make_engine(cfg.engine)
        seg = engine.segment(tx, cfg, on_trial)
        self.features_ = seg.builder
        self.segmenter_ = seg.pipeline
        self.algorithm_ = seg.algorithm
        labels = pd.Series(seg.labels, index=seg.features.index, name="segment", dtype="int64")
        self.value_: ValueModel | None = None
        value = None
        if self.describe and isinstance(cfg.value, Value):
            with step("fit the value models (BG/NBD purchases, Gamma-Gamma spend)"):
                self.value_ = ValueModel(cfg.value)
                value = self.value_.fit_predict(tx)
        self.personas_: list[Persona] = []
        if self.describe:
            self._profile(tx, labels, seg.features, value)
        self.training_ = Training(seg, value)
        self.rules_: pd.DataFrame | None = None
        self.recommenders_: dict[str, Recommender] = {}
        self.blend_ = BlendChoice()
        self.expected_: ExpectedValue | None = None
        self.skipped_ = self._skipped(tx)
        if isinstance(cfg.rules, Rules) and "rules" not in self.skipped_:
            self._fit_rules(engine, tx, labels, cfg.rules)
        return self

    def _profile(
        self, tx: pd.DataFrame, labels: pd.Series, features: pd.DataFrame,
        value: pd.DataFrame | None,
    ) -> None:  # fmt: skip
        cfg = self.config
        with step("profile segments and name personas"):
            desc = customer_descriptors(tx)
            self.profiles_: Profiles = profile(tx, labels, features, cfg.profiling.top_n,
                                               descriptors=desc)  # fmt: skip
            if value is not None and isinstance(cfg.value, Value):
                self.profiles_.value = value_profile(value, labels, cfg.value.lapsed_below)
                desc = desc.assign(p_alive=value["p_alive"].reindex(desc.index))
            self.personas_ = assign_personas(
                desc, labels, cfg.profiling.actions, rfm=cfg.features.name in RFM_SETS,
                currency=cfg.data.currency or "",
            )  # fmt: skip

    def _skipped(self, tx: pd.DataFrame) -> dict[str, str]:
        """Parts this data cannot feed, and why (a run tags them, nothing fails)."""
        if has_column(tx, "product_id"):
            return {}
        why = "no product ids in this source"
        return {"rules": why, "recommend": why}

    def _fit_rules(
        self, engine: SegmentEngine, tx: pd.DataFrame, labels: pd.Series, rules: Rules
    ) -> None:
        miner = "spark FP-growth" if self.config.engine.name == "spark" else rules.engine
        with step(f"mine rules ({miner}, support {rules.min_support})"):
            baskets = make_baskets(tx, rules.basket, rules.item, rules.min_item_count)
            self.rules_, seconds = engine.mine(tx, baskets, labels, rules)
        t = self.training_
        t.rule_seconds, t.baskets, t.catalogue = seconds, baskets.n_baskets, len(baskets.items)
        t.dropped_items = baskets.dropped_items
        rec = self.config.recommend
        if not isinstance(rec, Recommend):
            return
        with step("fit the recommenders"):
            bought = histories(tx, rules.item, rec.half_life_days)
            self.recommenders_ = fit_recommenders(bought, baskets, self.rules_, labels, rec)
        by_value = rec.rank_by == "expected_value"
        if rec.blend == "learned":
            self.blend_ = learn_blend(tx, labels, self._window_fitter(engine, labels, rules, rec),
                                      rec, rules.item, self.config.seed,
                                      rec.candidates if by_value else 0)  # fmt: skip
        if by_value:
            self.expected_ = learn_expected(tx, rules.item, self.blend_, self.describe,
                                            self.value_ is not None)  # fmt: skip

    def _window_fitter(
        self, engine: SegmentEngine, labels: pd.Series, rules: Rules, rec: Recommend
    ) -> Callable[[pd.DataFrame], dict[str, Recommender]]:
        """Fits the blend's sources on other lines the way `fit` does (rules mined again)."""

        def fit_window(tx: pd.DataFrame) -> dict[str, Recommender]:
            baskets = make_baskets(tx, rules.basket, rules.item, rules.min_item_count)
            mined, _ = engine.mine(tx, baskets, labels, rules)
            bought = histories(tx, rules.item, rec.half_life_days)
            return fit_recommenders(bought, baskets, mined, labels, rec, only=rec.order)

        return fit_window

    # -- applying -----------------------------------------------------------------------------
    def value(self, transactions: pd.DataFrame, *, clean: bool = True) -> pd.DataFrame:
        """P(alive), expected purchases and CLV per customer (index customer_id), as of their
        last line; lines are cleaned here unless `clean=False`."""
        fitted = getattr(self, "value_", None)  # absent from models logged before the stage
        if fitted is None:
            raise ValueError("this model has no value stage (fitted with value=none)")
        tx = self.prepare(transactions)[0] if clean else transactions
        return fitted.predict(tx)

    def segment(
        self, transactions: pd.DataFrame | None = None, *, features: pd.DataFrame | None = None,
        clean: bool = True,
    ) -> pd.Series:  # fmt: skip
        """Segment per customer (index customer_id), from their transactions (cleaned here
        unless `clean=False`) or from a precomputed features table."""
        if features is None:
            if transactions is None:
                raise ValueError("segment() needs transactions or features")
            tx = self.prepare(transactions)[0] if clean else transactions
            features = self.features_.transform(tx)
        feats = features.set_index("customer_id") if "customer_id" in features else features.copy()
        feats.index = feats.index.astype("str")
        expected = self.features_.columns_
        # one-hot and share columns are additive (absent = 0); any other column must be given
        missing = [c for c in expected if c not in feats.columns and not c.startswith(ADDITIVE)]
        if missing:
            raise ValueError(
                f"the features table lacks column(s) {missing}; this model expects {expected} "
                "(or send transactions: customer_id, invoice_date, product_id, quantity, ...)"
            )
        feats = align_columns(feats.astype("float64"), expected)
        labels = np.asarray(self.segmenter_.predict(feats), dtype="int64")
        return pd.Series(labels, index=feats.index, name="segment")

    def recommend(
        self, transactions: pd.DataFrame, *, clean: bool = True, source: str = BLEND,
        k: int | None = None,
    ) -> pd.DataFrame:  # fmt: skip
        """Top-k per customer with a 1-based rank (the blend) or one source's list."""
        return self.recommend_all(transactions, [source], clean=clean, k=k)[source]

    def recommend_all(
        self, transactions: pd.DataFrame, names: Iterable[str], *, clean: bool = True,
        k: int | None = None,
    ) -> dict[str, pd.DataFrame]:  # fmt: skip
        """Several recommenders' lists for the same customers (the evaluation's table)."""
        k = k if k is not None else self._k
        return self.recommend_lengths(transactions, names, [k], clean=clean)[k]

    def recommend_lengths(
        self, transactions: pd.DataFrame, names: Iterable[str], lengths: Iterable[int], *,
        clean: bool = True,
    ) -> dict[int, dict[str, pd.DataFrame]]:  # fmt: skip
        """`recommend_all` at several list lengths, each source asked once (the evaluation)."""
        tx = self.prepare(transactions)[0] if clean else transactions
        history, segments = self.history(tx), self.segment(tx, clean=False)
        return recommend_lengths(self._recommenders(), self.config.recommend, history,  # type: ignore[arg-type]
                                 segments, names, lengths, self.blend_.weights,
                                 self.reranker(tx))  # fmt: skip

    def reranker(
        self, tx: pd.DataFrame | None = None, p_alive: pd.Series | None = None
    ) -> Rerank | None:
        """How the served list is picked from the candidates when ranked by expected value
        (None: relevance order); P(alive) from the value stage on `tx`'s customers."""
        ev = getattr(self, "expected_", None)  # absent from models logged before rank_by
        if ev is None:
            return None
        if p_alive is None and tx is not None and getattr(self, "value_", None) is not None:
            p_alive = self.value(tx, clean=False)["p_alive"]
        return partial(rerank, expected=ev, p_alive=p_alive)

    @property
    def _k(self) -> int:
        rec = self.config.recommend
        return rec.k if isinstance(rec, Recommend) else 10

    @property
    def item_column(self) -> str:
        """What one item is (rules.item): the column histories and baskets are read from."""
        rules = self.config.rules
        return rules.item if isinstance(rules, Rules) else "product_id"

    def history(self, tx: pd.DataFrame) -> History:
        """Cleaned lines as the dated purchase history the recommenders read."""
        rec = self.config.recommend
        half_life = rec.half_life_days if isinstance(rec, Recommend) else None
        return histories(tx, self.item_column, half_life)

    def lists(
        self, history: History, segments: pd.Series, names: Iterable[str], k: int | None,
        p_alive: pd.Series | None = None,
    ) -> dict[str, pd.DataFrame]:  # fmt: skip
        """The named lists (blend or sources) for a history and its customers' segments."""
        rec = self.config.recommend
        k = k if k is not None else self._k
        rerank_by = self.reranker(p_alive=p_alive)
        return recommend_lengths(self._recommenders(), rec, history, segments, names, [k],  # type: ignore[arg-type]
                                 self.blend_.weights, rerank_by)[k]  # fmt: skip

    def _recommenders(self) -> dict[str, Recommender]:
        if not self.recommenders_ or not isinstance(self.config.recommend, Recommend):
            raise ValueError(
                "this model has no recommenders (rules or recommend switched off, or no "
                "product ids in the training data)"
            )
        return self.recommenders_

    def personas_frame(self) -> pd.DataFrame:
        """Personas as a table, one row per segment (actions as lists)."""
        columns = [f.name for f in fields(Persona)]
        return pd.DataFrame([asdict(p) for p in self.personas_], columns=columns)

    def score(self, data: pd.DataFrame) -> pd.DataFrame:
        """One row per customer (segment, persona, cross-sell and buy-again lists), or, for
        product lines without customers, one row per basket of "bought together" items
        (`custseg.serving`)."""
        return serving.score(self, data)

    def together(self, lines: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
        """Items frequently bought with each basket's items (`invoice_id` groups the lines):
        the shop-page answer, with no customer history (`recommend.together`)."""
        return bought_together(self.recommenders_, lines, self.item_column, k or self._k)

    # -- persistence --------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The deployable state: no training tables, no password in a tracking URI."""
        state = dict(self.__dict__)
        state.pop("training_", None)
        state["config"] = redact_fields(self.config)
        return state
