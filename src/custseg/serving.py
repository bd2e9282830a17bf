"""What a served CustomerModel answers: the table `score` returns, for customers or for baskets.

Customers (transaction lines with customer ids, or a features table): one row each with the
segment, the persona, the cross-sell list (the blend: new items only, what the evaluation
scores) and the buy-again list (items the customer bought before, by frequency and recency),
apart because they answer different questions. Baskets (product lines without customer ids,
grouped by `invoice_id`): the shop page's "frequently bought together", from basket
co-occurrence, for visitors with no history. `kind` tells the three apart by their columns, for
the answer here and for the served model's input check (`custseg.tracking.payload`) alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from custseg.recommend.history import History
from custseg.recommend.recommenders import BLEND, BUY_AGAIN

if TYPE_CHECKING:
    from custseg.model import CustomerModel

OUTPUT = ("customer_id", "segment", "persona", "persona_key", "recommendations", "sources",
          "buy_again")  # fmt: skip
BASKET_OUTPUT = ("basket", "items", "recommendations", "reasons")
# what a model with a value stage adds per customer (transaction lines only: a features table
# has no purchase dates); CLV only when the spend model was fitted
VALUE_OUTPUT = ("p_alive", "expected_purchases", "clv")


def _lists(recs: pd.DataFrame, column: str) -> dict[str, list[str]]:
    """Each customer's `column` values in list order."""
    if recs.empty:
        return {}
    order = ["customer_id", "rank"] if "rank" in recs.columns else ["customer_id"]
    recs = recs.sort_values(order, kind="stable")
    grouped = recs.groupby("customer_id", sort=False, observed=True)[column]
    return {str(c): [str(v) for v in vs] for c, vs in grouped.agg(list).items()}


TRANSACTIONS, FEATURES, BASKETS = "transactions", "features", "baskets"


def kind(model: CustomerModel, columns: Iterable[object]) -> str:
    """What a table is: any of the model's feature columns makes it a features table (one row
    per customer), customer ids make it transaction lines, items without customers a "bought
    together" question. Decided by names alone, so that the served model's input check and the
    answer read a payload the same way."""
    names = set(map(str, columns))
    if names & set(model.features_.columns_):
        return FEATURES
    if "customer_id" not in names and model.item_column in names:
        return BASKETS
    return TRANSACTIONS


def is_basket_query(model: CustomerModel, data: pd.DataFrame) -> bool:
    """Product lines with no customer: a "bought together" question."""
    return kind(model, data.columns) == BASKETS


def score(model: CustomerModel, data: pd.DataFrame) -> pd.DataFrame:
    """The served answer for `data` (see the module docstring)."""
    if is_basket_query(model, data):
        return baskets(model, data)
    return customers(model, data)


def customers(model: CustomerModel, data: pd.DataFrame) -> pd.DataFrame:
    """One row per customer. Transaction lines are cleaned here; a features table (one row per
    customer) gets recommendations resting on the segment alone: no purchase history."""
    value = None
    if kind(model, data.columns) == TRANSACTIONS:
        tx = model.prepare(data)[0]
        segments = model.segment(tx, clean=False)
        history = model.history(tx)
        if getattr(model, "value_", None) is not None:
            value = model.value(tx, clean=False)
            value = value.set_axis(value.index.astype("str"))
    else:
        segments = model.segment(features=data)
        history = History.from_mapping({c: () for c in segments.index})
    personas = model.personas_frame().set_index("segment")
    keys = segments.astype("str")
    out = pd.DataFrame({
        "customer_id": segments.index.to_numpy(dtype=object),
        "segment": segments.to_numpy(),
        "persona": keys.map(personas["name"]).fillna("").to_numpy(dtype=object),
        "persona_key": keys.map(personas["key"]).fillna("").to_numpy(dtype=object),
    })  # fmt: skip
    alive = None if value is None else value["p_alive"]
    lists = model.lists(history, segments, [BLEND, BUY_AGAIN], None, alive) if (
        model.recommenders_) else {}  # fmt: skip
    blended, again = lists.get(BLEND, pd.DataFrame()), lists.get(BUY_AGAIN, pd.DataFrame())
    items, sources, repeat = (
        _lists(blended, "item"),
        _lists(blended, "source"),
        _lists(again, "item"),
    )
    ids = out["customer_id"].astype(str)
    out["recommendations"] = [items.get(c, []) for c in ids]
    out["sources"] = [sources.get(c, []) for c in ids]
    out["buy_again"] = [repeat.get(c, []) for c in ids]
    extra = []
    if value is not None:
        extra = [c for c in VALUE_OUTPUT if c in value.columns]
        for column in extra:
            out[column] = value[column].reindex(ids).to_numpy(dtype="float64")
    return out[[*OUTPUT, *extra]]


def baskets(model: CustomerModel, lines: pd.DataFrame) -> pd.DataFrame:
    """One row per basket: its items, the items bought with them and why."""
    item = model.item_column
    recs = model.together(lines)
    key = (
        lines["invoice_id"]
        if "invoice_id" in lines.columns
        else pd.Series("basket", index=lines.index)
    )
    given = pd.DataFrame({"basket": key.astype(str), "item": lines[item].astype(str)})
    given = given.dropna().drop_duplicates()
    contents = given.groupby("basket", sort=True)["item"].agg(list)
    picks, reasons = _lists(recs, "item"), _lists(recs, "reason")
    return pd.DataFrame({
        "basket": contents.index.to_numpy(dtype=object),
        "items": [list(v) for v in contents],
        "recommendations": [picks.get(b, []) for b in contents.index],
        "reasons": [reasons.get(b, []) for b in contents.index],
    }, columns=list(BASKET_OUTPUT))  # fmt: skip
