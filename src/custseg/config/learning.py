"""The schema of the groups the customer model learns by: `features`, `segment` (with its
search space and `metrics`), `tuning`, `profiling`, `rules` and `recommend`. On/off groups are
tagged by `enabled`, so `rules=none` needs no thresholds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from custseg.config.base import (
    Count,
    DateText,
    Float,
    Fraction,
    Int,
    Off,
    Positive,
    Section,
    Share,
    Target,
    Text,
    switch,
)

# -- features ----------------------------------------------------------------------------------
Scaler = Literal["standard", "robust", "quantile", "none"]


class FeatureSet(Section):
    target: Target
    scaler: Scaler


# the columns each set builds, for `log1p`: the builders' COLUMNS (a test keeps them equal)
ValueQuantityColumn = Literal["total_value", "total_quantity"]
RFMColumn = Literal["recency_days", "frequency", "monetary"]
BasketColumn = Literal["frequency", "mean_basket_value", "mean_basket_units", "mean_unit_price",
                       "tenure_days"]  # fmt: skip
VisitsColumn = Literal["visits", "recency_days", "tenure_days", "mean_basket_size",
                       "distinct_items"]  # fmt: skip


class ValueQuantity(FeatureSet):
    name: Literal["value_quantity"]
    log1p: list[ValueQuantityColumn]


class ValueQuantityPrice(FeatureSet):
    name: Literal["value_quantity_price"]
    log1p: list[ValueQuantityColumn | Literal["avg_unit_price"]]


class RFM(FeatureSet):
    name: Literal["rfm"]
    log1p: list[RFMColumn]
    reference_date: DateText | None


class RFMRegion(FeatureSet):
    name: Literal["rfm_region"]
    log1p: list[RFMColumn]  # never the 0/1 region columns
    reference_date: DateText | None
    top_regions: Count


class CategoryMix(FeatureSet):
    name: Literal["category_mix"]
    log1p: Annotated[list[str], Field(max_length=0)]  # shares in [0, 1]: nothing to log
    by: Literal["spend", "units"]


class Basket(FeatureSet):
    name: Literal["basket"]
    log1p: list[BasketColumn]


class Visits(FeatureSet):
    name: Literal["visits"]
    log1p: list[VisitsColumn]
    reference_date: DateText | None


Features = Annotated[
    ValueQuantity | ValueQuantityPrice | RFM | RFMRegion | CategoryMix | Basket | Visits,
    Field(discriminator="name"),
]


# -- segment -----------------------------------------------------------------------------------
class IntRange(Section):
    type: Literal["int"]
    low: Int
    high: Int
    log: bool = False  # a search-space entry is a value, not a config group: log scale is rare


class FloatRange(Section):
    type: Literal["float"]
    low: Float
    high: Float
    log: bool = False


class Choices(Section):
    type: Literal["categorical"]
    choices: Annotated[list[Any], Field(min_length=1)]


SearchSpec = Annotated[IntRange | FloatRange | Choices, Field(discriminator="type")]


class Algorithm(Section):
    target: Target
    search_space: dict[str, SearchSpec]
    align_to: Text | None  # MLflow run id whose numbers to keep

    def params(self) -> dict[str, Any]:
        """The estimator's own parameters (what `instantiate` passes to `_target_`)."""
        return self.model_dump(exclude={"name", "target", "search_space", "align_to"})


# one segment is every customer: nothing to profile, compare or target apart
Segments = Annotated[Int, Field(ge=2)]


class KMeans(Algorithm):
    name: Literal["kmeans"]
    n_clusters: Segments
    n_init: Count
    max_iter: Count
    tol: Positive


class GMM(Algorithm):
    name: Literal["gmm"]
    n_clusters: Segments
    covariance_type: Literal["full", "tied", "diag", "spherical"]
    n_init: Count
    max_iter: Count
    tol: Positive


class HDBSCAN(Algorithm):
    name: Literal["hdbscan"]
    min_cluster_size: Annotated[Int, Field(ge=2)]
    min_samples: Count | None
    cluster_selection_method: Literal["eom", "leaf"]


Segment = Annotated[KMeans | GMM | HDBSCAN, Field(discriminator="name")]


class Metrics(Section):
    silhouette_max_exact: Annotated[Int, Field(ge=2)]
    silhouette_sample_size: Annotated[Int, Field(ge=2)]


class Stability(Section):
    rounds: Annotated[Int, Field(ge=0)]  # 0: no bootstrap after the final fit
    sample_size: Annotated[Int, Field(ge=2)]


# -- tuning ------------------------------------------------------------------------------------
class Selection(Section):
    rule: Literal["parsimonious", "front_best_silhouette"]
    min_segment_share: Share
    max_segment_share: Share
    max_noise_share: Share
    max_revenue_share: Share
    silhouette_tolerance: Annotated[Float, Field(ge=0.0)]
    min_segments: Annotated[Int, Field(ge=2)]
    min_stability: Share  # mean bootstrap ARI; 0 switches the gate off


class Tuning(Section):
    enabled: Literal[True]
    n_trials: Count
    sampler: Literal["auto", "tpe", "nsga2", "random"]
    storage: Text
    n_jobs: Literal["auto"] | Count
    wait_timeout: Positive
    elbow: bool
    stability_rounds: Annotated[Int, Field(ge=0)]  # bootstrap refits per trial; 0: none
    selection: Selection


TuningGroup = Annotated[
    Annotated[Tuning, Tag("on")] | Annotated[Off, Tag("off")], Discriminator(switch)
]


# -- profiling, rules, recommend -------------------------------------------------------------
PersonaKey = Literal["high_value", "bulk", "premium", "lapsed", "at_risk", "regular",
                     "occasional", "unassigned"]  # fmt: skip


class Profiling(Section):
    top_n: Count
    actions: dict[PersonaKey, list[Text]]


class Significance(Section):
    """A test per rule within its scope (as R arules `is.significant`); `none` keeps every rule."""

    test: Literal["none", "fisher"]
    alpha: Fraction  # keep rules whose adjusted p-value is at most this
    correction: Literal["holm", "bh", "none"]


ItemIds = list[Annotated[str, Field(min_length=1)]]  # item ids as the rules spell them


class Constraints(Section):
    """Items allowed on each side of a rule; an empty `consequent_include` allows any item."""

    antecedent_exclude: ItemIds
    consequent_exclude: ItemIds
    consequent_include: ItemIds


class Rules(Section):
    enabled: Literal[True]
    engine: Literal["eclat", "fim", "fpgrowth", "apriori"]
    basket: Literal["invoice", "customer_day", "customer"]
    item: Literal["product_id", "product_name", "category"]
    min_item_count: Count
    min_support: Annotated[Float, Field(gt=0.0, le=1.0)]
    min_confidence: Share
    min_lift: Annotated[Float, Field(ge=0.0)]
    max_len: Annotated[Int, Field(ge=2)] | None  # 1 would only find single items: no rules
    prune_redundant: bool
    max_itemsets: Count
    min_baskets: Count
    significance: Significance
    constraints: Constraints


RulesGroup = Annotated[
    Annotated[Rules, Tag("on")] | Annotated[Off, Tag("off")], Discriminator(switch)
]

# cross-sell sources (new items only); buy_again is a list of its own, never blended
Source = Literal["ease", "sar", "similarity", "crosssell", "overall_rules", "favourite", "popular"]


class Evaluate(Section):
    enabled: bool
    split: Literal["global", "per_customer"]
    cutoff: DateText | None
    test_fraction: Fraction
    ks: Annotated[list[Count], Field(min_length=1)]
    max_customers: Count


# SAR's item-item similarity measures (custseg.recommend.similarity.MEASURES)
Measure = Literal["cooccurrence", "jaccard", "lift", "cosine", "mutual_information"]


class Sar(Section):
    similarity: Measure
    threshold: Count
    top_n: Count | None


class Ease(Section):
    l2: Annotated[Float, Field(gt=0.0)]
    max_items: Count


class Validation(Section):
    days: Count
    max_customers: Count
    max_train_customers: Count
    metric: Literal["ndcg", "hit_rate", "precision", "recall", "map"]


class Recommend(Section):
    enabled: Literal[True]
    k: Count
    rank_by: Literal["relevance", "expected_value"]
    candidates: Count
    score: Literal["confidence", "lift", "confidence_x_lift"]
    blend: Literal["learned", "weights", "order"]
    order: Annotated[list[Source], Field(min_length=1)]
    weights: dict[Source, Annotated[Float, Field(ge=0.0)]]
    half_life_days: Annotated[Float, Field(gt=0.0)]
    similarity: Measure
    similarity_top_n: Count
    sar: Sar
    ease: Ease
    validation: Validation
    evaluate: Evaluate


RecommendGroup = Annotated[
    Annotated[Recommend, Tag("on")] | Annotated[Off, Tag("off")], Discriminator(switch)
]
