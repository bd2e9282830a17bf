"""The deployable segmentation: one MLflow pyfunc model for next month's customers.

It bundles everything scoring needs — cleaning rules, the feature builder and its config, the
fitted scaler and clusterer, the personas, the rules and each segment's favourites — so a
transactions table for any set of customers (or a table of precomputed features) becomes, per
customer: segment, persona and top-k recommendations with their sources.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle
import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema

from custseg.data.clean import clean
from custseg.data.schema import ABSENT_ALLOWED, CANONICAL, REQUIRED, validate
from custseg.features import build_features
from custseg.features.registry import align_columns
from custseg.recommend import blend, crosssell, favourites
from custseg.recommend.common import histories

OUTPUT = ["customer_id", "segment", "persona", "persona_key", "recommendations", "sources"]
_TEXT = ("customer_id", "invoice_id", "invoice_date", "product_id", "product_name", "category",
         "region")  # fmt: skip


@dataclass
class Bundle:
    """What scoring needs from training, picklable as one object."""

    clean_cfg: dict[str, Any]
    features_cfg: dict[str, Any]
    columns: list[str]  # feature columns the fitted model expects
    model: Any  # fitted sklearn Pipeline: scaler + clusterer
    personas: pd.DataFrame | None  # segment (str), key, name
    rules: pd.DataFrame | None  # all scopes
    ranking: pd.DataFrame | None  # favourites: group, item, buyers, score (top per segment)
    k: int = 10
    score: str = "confidence"
    item: str = "product_id"
    extra: dict[str, Any] = field(default_factory=dict)

    def persona_of(self, labels: pd.Series) -> tuple[pd.Series, pd.Series]:
        if self.personas is None or self.personas.empty:
            empty = pd.Series("", index=labels.index)
            return empty, empty
        p = self.personas.set_index(self.personas["segment"].astype(str))
        keys = labels.astype(str)
        return keys.map(p["name"]).fillna(""), keys.map(p["key"]).fillna("")

    def score_transactions(self, tx: pd.DataFrame) -> pd.DataFrame:
        # columns a source may lack (product ids, prices) arrive as absent, not as nulls
        tx = tx.assign(**{c: float("nan") for c in ABSENT_ALLOWED if c not in tx.columns})
        tx, _ = clean(validate(tx, "model input"), self.clean_cfg)
        feats = build_features(tx, self.features_cfg["name"], self.features_cfg)
        return self._assemble(feats, histories(tx, item=self.item))

    def score_features(self, feats: pd.DataFrame) -> pd.DataFrame:
        feats = feats.set_index("customer_id") if "customer_id" in feats else feats
        feats.index = feats.index.astype(str)
        return self._assemble(feats, {c: set() for c in feats.index})

    def _assemble(self, feats: pd.DataFrame, hist: dict[str, set[str]]) -> pd.DataFrame:
        feats = align_columns(feats.astype("float64"), self.columns)
        labels = pd.Series(self.model.predict(feats), index=feats.index, dtype="int64")
        name, key = self.persona_of(labels)
        recs = self.recommend(hist, labels)
        grouped = recs.sort_values(["customer_id", "rank"]).groupby("customer_id", sort=False)
        items = grouped["item"].agg(list)
        sources = grouped["source"].agg(list)
        out = pd.DataFrame({
            "customer_id": labels.index, "segment": labels.to_numpy(),
            "persona": name.to_numpy(), "persona_key": key.to_numpy(),
            "recommendations": [json.dumps(items.get(c, [])) for c in labels.index],
            "sources": [json.dumps(sources.get(c, [])) for c in labels.index],
        })  # fmt: skip
        return out[OUTPUT]

    def recommend(self, hist: dict[str, set[str]], labels: pd.Series) -> pd.DataFrame:
        frames = {}
        if self.rules is not None and len(self.rules):
            frames["crosssell"] = crosssell.recommend(hist, labels, self.rules, self.k, self.score)
        if self.ranking is not None:
            frames["favourite"] = favourites.from_ranking(self.ranking, hist, labels, self.k)
        if not frames:
            return pd.DataFrame(columns=["customer_id", "item", "source", "rank"])
        return blend.blend(frames, list(frames), None, self.k, mode="order")


class SegmentationModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper: transactions (canonical columns) or precomputed features in, one row per
    customer out."""

    def load_context(self, context: Any) -> None:
        with open(context.artifacts["bundle"], "rb") as fh:
            self.bundle: Bundle = cloudpickle.load(fh)

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        df = pd.DataFrame(model_input)
        if {"invoice_date", "quantity"} <= set(df.columns):  # transactions
            return self.bundle.score_transactions(df[[c for c in df.columns if c in CANONICAL]])
        return self.bundle.score_features(df)


def signature(bundle: Bundle, example: pd.DataFrame) -> ModelSignature:
    """Every input column optional: the same model takes transactions or a features table."""
    cols = [ColSpec("string" if c in _TEXT else "double", c, required=False) for c in example]
    cols += [ColSpec("double", c, required=False) for c in bundle.columns if c not in example]
    outputs = [ColSpec("string", c) for c in OUTPUT if c != "segment"]
    outputs.insert(1, ColSpec("long", "segment"))
    return ModelSignature(inputs=Schema(cols), outputs=Schema(outputs))


def input_example(tx: pd.DataFrame, customers: int = 3) -> pd.DataFrame:
    """A few customers' canonical lines: the logged example and the serving test's payload."""
    keep = tx["customer_id"].astype(str).drop_duplicates().head(customers)
    return to_model_input(tx[tx["customer_id"].astype(str).isin(keep)])


def to_model_input(tx: pd.DataFrame) -> pd.DataFrame:
    """A canonical table in the model's JSON-friendly input types (dates as text)."""
    ex = tx[[c for c in tx.columns if c in CANONICAL and tx[c].notna().any()]].copy()
    for c in ex.columns:
        if c == "invoice_date":
            ex[c] = ex[c].dt.strftime("%Y-%m-%d %H:%M:%S")
        elif c in _TEXT:
            ex[c] = ex[c].astype(str)
        else:
            ex[c] = ex[c].astype("float64")
    missing = [c for c in REQUIRED if c not in ex.columns and c not in ABSENT_ALLOWED]
    if missing:
        raise ValueError(f"input example lacks {missing}")
    return ex.reset_index(drop=True)


def warm_requirements_check() -> threading.Thread | None:
    """Start filling MLflow's map of installed packages in a background thread.

    `log_model` compares the model's requirements with what is installed, and MLflow builds
    that map by reading the file list of every installed distribution: 0.5-0.7 s of the model
    stage. Started while the run waits for its figures, it costs no wall time. (It calls an
    internal MLflow function, pinned with mlflow<3.18; if that moves, nothing is warmed.)
    """
    try:
        from mlflow.utils.requirements_utils import _init_modules_to_packages_map
    except ImportError:
        return None
    thread = threading.Thread(target=_init_modules_to_packages_map, name="mlflow-packages",
                              daemon=True)  # fmt: skip
    thread.start()
    return thread


def log_model(bundle: Bundle, example: pd.DataFrame, requirements: list[str]) -> str:
    """Log the pyfunc model to the active run; return its models:/ URI."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.pkl"
        with open(path, "wb") as fh:
            cloudpickle.dump(bundle, fh)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=SegmentationModel(),
            artifacts={"bundle": str(path)},
            signature=signature(bundle, example),
            input_example=example,
            pip_requirements=requirements,
        )
    return info.model_uri


def register(model_uri: str, name: str) -> str:
    """Register a logged model under `name`; returns models:/NAME/VERSION."""
    version = mlflow.register_model(model_uri, name)
    return f"models:/{name}/{version.version}"


def load(uri: str) -> mlflow.pyfunc.PyFuncModel:
    return mlflow.pyfunc.load_model(uri)


def bundle_from_run(
    resolved: Mapping[str, Any], model: Any, columns: list[str], personas: pd.DataFrame | None,
    rules: pd.DataFrame | None, ranking: pd.DataFrame | None,
) -> Bundle:  # fmt: skip
    rec = resolved.get("recommend") or {}
    rcfg = resolved.get("rules") or {}
    return Bundle(
        clean_cfg=dict(resolved["clean"]),
        features_cfg=dict(resolved["features"]),
        columns=list(columns),
        model=model,
        personas=None if personas is None else personas[["segment", "key", "name"]].copy(),
        rules=rules,
        ranking=ranking,
        k=int(rec.get("k", 10)),
        score=str(rec.get("score", "confidence")),
        item=str(rcfg.get("item", "product_id")),
    )
