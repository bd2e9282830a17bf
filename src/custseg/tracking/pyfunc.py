"""The fitted CustomerModel as an MLflow pyfunc model: `custseg serve` (or `mlflow models
serve`), `custseg score` and `custseg drift` load the very object the run fitted and evaluated,
and call its `score`.

The wrapper only unpickles the model, checks the payload against the model's input contract
(`custseg.tracking.payload`) and forwards it to `score`; there is no second implementation of
scoring here. Input: canonical transaction lines (or a features table); output: one row per
customer with segment, persona, the cross-sell items with their sources and the buy-again items
(as lists), and P(alive), expected purchases and CLV when the model has a value stage; product
lines without customers get "bought together" items per basket instead.

A refused payload leaves `predict` as an MlflowException with error code BAD_REQUEST, which the
scoring server answers as HTTP 400 with a JSON body: `message` (`mlflow models serve` puts the
input's repr in front of ours; `custseg serve` drops it) and `errors`, one record per problem
with its `field`, `problem`, `fix` and `rows`. Anything else the model raises is logged here
with its traceback and answered as a bare 500: a traceback (server paths, library versions)
never reaches a client, as it would if an exception other than an MlflowException left
`predict`.
"""

from __future__ import annotations

import importlib.metadata
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import cloudpickle
import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.protos.databricks_pb2 import BAD_REQUEST, INTERNAL_ERROR
from mlflow.types.schema import Array, ColSpec, Schema

from custseg.data.schema import ABSENT_ALLOWED, CANONICAL, REQUIRED
from custseg.model import CustomerModel
from custseg.serving import VALUE_OUTPUT
from custseg.tracking import payload

log = logging.getLogger(__name__)
_TEXT = ("customer_id", "invoice_id", "invoice_date", "product_id", "product_name", "category",
         "region")  # fmt: skip


class CustomerModelPyfunc(mlflow.pyfunc.PythonModel):
    """pyfunc face of a CustomerModel (pickled as the `model` artifact)."""

    def load_context(self, context: Any) -> None:
        with open(context.artifacts["model"], "rb") as fh:
            self.model: CustomerModel = cloudpickle.load(fh)

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        try:
            return self.model.score(payload.check(self.model, model_input))
        except ValueError as err:  # custseg's errors for bad input are ValueErrors
            refused = payload.refusal(err)
            log.info("%s", refused)
            raise MlflowException(str(refused), BAD_REQUEST, errors=refused.errors()) from None
        except Exception:
            log.exception("scoring failed on a payload that passed the input check")
            raise MlflowException(
                "the model failed on this payload; the server log has the details",
                INTERNAL_ERROR,
            ) from None


def signature() -> ModelSignature:
    """Outputs only. An input schema would make MLflow drop every column it does not declare
    before the model sees the payload, so a misspelt column could not be refused; the input
    contract is `payload.contract`, in the MLmodel metadata, and the model checks it."""
    outputs = [
        ColSpec("string", "customer_id"), ColSpec("long", "segment"),
        ColSpec("string", "persona"), ColSpec("string", "persona_key"),
        ColSpec(Array("string"), "recommendations"), ColSpec(Array("string"), "sources"),
        ColSpec(Array("string"), "buy_again"),
        # models fitted with a value stage, for customers sent as transaction lines
        *(ColSpec("double", name, required=False) for name in VALUE_OUTPUT),
    ]  # fmt: skip
    return ModelSignature(outputs=Schema(outputs))


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


def requirements() -> list[str]:
    """The project's own runtime dependencies, as installed."""
    reqs = importlib.metadata.requires("custseg") or []
    return [r.split(";")[0].strip() for r in reqs if "extra ==" not in r]


def log_model(model: CustomerModel, example: pd.DataFrame, register_as: str | None) -> str:
    """Log the pyfunc model to the active run (and register it when asked); its URI."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pkl"
        with open(path, "wb") as fh:
            cloudpickle.dump(model, fh)
        with warnings.catch_warnings():  # segment labels are ints; MLflow warns about ints
            warnings.simplefilter("ignore", UserWarning)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=CustomerModelPyfunc(),
                artifacts={"model": str(path)},
                signature=signature(),
                input_example=example,
                metadata={"custseg_input": payload.contract(model)},
                pip_requirements=requirements(),
            )
    if not register_as:
        return info.model_uri
    version = mlflow.register_model(info.model_uri, register_as)
    uri = f"models:/{register_as}/{version.version}"
    mlflow.set_tag("registered_model", uri)
    return uri


def load_model(uri: str, tracking_uri: str | None = None) -> CustomerModel:
    """The CustomerModel behind a logged or registered pyfunc model (runs:/ and models:/ URIs
    are looked up in `tracking_uri` when given)."""
    if tracking_uri is not None:
        mlflow.set_tracking_uri(tracking_uri)
    wrapper = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    return wrapper.model
