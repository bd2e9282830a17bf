"""The report's value blocks: what each segment is worth next and how far to trust it.

Plain blocks as in `blocks` (rendered and escaped there); only the value stage's tables are read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from custseg.report.cells import Block, segment_column

if TYPE_CHECKING:
    from custseg.report.report import ReportInput


def _money(value: Any, currency: str) -> str:
    return "–" if pd.isna(value) else f"{currency}{float(value):,.0f}"


def glance(vp: pd.DataFrame | None, label: str, currency: str) -> dict[str, str]:
    """Columns for the "segments at a glance" row of a segment (none without a value stage)."""
    if vp is None or label not in vp.index:
        return {}
    row = vp.loc[label]
    out = {"likely lapsed": f"{float(row['lapsed_share']):.0%}"}
    if "clv_share" in vp.columns:
        out["share of future value"] = f"{float(row['clv_share']):.1%}"
        out["mean CLV"] = _money(row["clv_mean"], currency)
    return out


def segment_value(inp: ReportInput, label: str) -> list[Block]:
    """A segment's value table beside everyone's: activity, expected purchases, CLV."""
    vp = inp.value_profile
    if vp is None or label not in vp.index:
        return []
    seg, everyone = vp.loc[label], vp.loc["all"]
    horizon = inp.value_horizon_days
    rows = [("mean P(alive)", f"{seg['p_alive_mean']:.2f}", f"{everyone['p_alive_mean']:.2f}"),
            ("share likely lapsed", f"{seg['lapsed_share']:.1%}",
             f"{everyone['lapsed_share']:.1%}"),
            (f"expected purchases, next {horizon} days", f"{seg['expected_purchases']:,.0f}",
             f"{everyone['expected_purchases']:,.0f}")]  # fmt: skip
    if "clv_total" in vp.columns:
        cur = inp.currency
        rows += [("total CLV", _money(seg["clv_total"], cur), _money(everyone["clv_total"], cur)),
                 ("mean CLV", _money(seg["clv_mean"], cur), _money(everyone["clv_mean"], cur)),
                 ("share of future value", f"{seg['clv_share']:.1%}", "100%")]  # fmt: skip
    header = segment_column(inp.personas, label)
    table = pd.DataFrame(rows, columns=["measure", header, "all customers"])
    return [("h", 3, "Customer value (what they are worth next)"), ("table", table)]


def _offers_of(inp: ReportInput, label: str) -> pd.DataFrame | None:
    """The segment's rows of the offers table, best first (None: no offers for it)."""
    if inp.offers is None:
        return None
    mine = inp.offers[inp.offers["segment"].astype("str") == label]
    return None if mine.empty else mine


def worth_word(inp: ReportInput) -> str:
    """What offers are worth in this run: "revenue", or "margin" when the data maps a margin
    column (recommend.expected values items by it then)."""
    return "margin" if inp.offer_basis == "margin" else "revenue"


def offers_cell(inp: ReportInput, label: str, names: dict[str, str], n: int) -> str:
    """The segment's `n` offers worth the most, for the glance table."""
    mine = _offers_of(inp, label)
    if mine is None:
        return "–"
    top = mine.head(n)
    pairs = zip(top["item"], top["expected_revenue"], strict=True)
    return "; ".join(f"{names.get(i, i)} ({_money(v, inp.currency)})" for i, v in pairs)


def segment_offers(inp: ReportInput, label: str, names: dict[str, str]) -> list[Block]:
    """The segment's offers worth the most expected revenue or margin
    (recommend.rank_by=expected_value): what a campaign with a budget sends first. The text says
    what the worth counts, so a margin-valued run is never read as revenue."""
    mine = _offers_of(inp, label)
    if mine is None:
        return []
    word = worth_word(inp)
    table = pd.DataFrame({
        "item": [names.get(i, i) for i in mine["item"]],
        "customers offered it": [f"{n:,}" for n in mine["customers"]],
        f"expected {word}": [_money(v, inp.currency) for v in mine["expected_revenue"]],
    })  # fmt: skip
    item = "the item's margin" if word == "margin" else "what the item sells for"
    alive = ("times the customer's chance of still being active" if inp.offers_p_alive else
             "with every customer counted as active (no value stage ran: value=bgnbd adds "
             "each customer's chance of still being active)")  # fmt: skip
    return [("h", 3, f"Top offers by expected {word}"),
            ("p", f"Each offer's chance of being bought at its place in the list, times {item}, "
                  f"{alive}, summed over the segment's customers."),
            ("table", table)]  # fmt: skip


def value_section(inp: ReportInput, level: int = 2) -> list[Block]:
    """How the value models did on the held-out days, against the naive rate (a heading of
    `level`)."""
    m = inp.value_check
    if not m:
        return []
    days, customers = int(m["holdout_days"]), int(m["customers"])
    table = pd.DataFrame(
        [("BG/NBD", f"{m['mae']:.3f}", f"{m['rmse']:.3f}", f"{m['correlation']:.3f}",
          f"{m['predicted_total']:,.0f}"),
         ("naive: same rate as before", f"{m['mae_naive']:.3f}", "–", "–", "–"),
         ("actual", "", "", "", f"{m['actual_total']:,.0f}")],
        columns=["model", "MAE", "RMSE", "correlation", "purchases in total"],
    )  # fmt: skip
    better = "beats" if m["mae"] < m["mae_naive"] else "does not beat"
    return [("h", level, "Customer value: predictions checked on held-out days"),
            ("p", f"The value models were fitted again without the last {days} days and asked "
                  f"how often each of {customers:,} customers would buy in them (purchase days "
                  f"per customer; lower MAE is better). BG/NBD {better} the naive rule that "
                  "each customer keeps buying at the rate seen before."),
            ("table", table)]  # fmt: skip
