"""Demo data: realistic retail transactions with planted truth, fast at any size.

Customers belong to planted segments that differ in purchase frequency, basket size, units per
line, price level and activity window; regions differ in category preferences; every segment
has planted co-purchase pairs. The truth comes back beside the data so tests can check what the
pipeline recovers. Everything is vectorised numpy: 1M rows take about a second.

A little realistic dirt is added on top (exact duplicates, anonymous lines, cancellations,
postage lines, see `custseg.data.dirt`) so the cleaning rules have something to remove; its
counts are in the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custseg.data.dirt import add_dirt

CATEGORIES = ("Kitchen", "Garden", "Toys", "Stationery", "Lighting", "Textiles", "Party", "Gifts")
REGIONS = ("North", "South", "East", "West")
_ADJECTIVES = (
    "Red", "Blue", "Vintage", "Retro", "Pastel", "Large", "Mini", "Heart", "Star", "Floral",
    "Polka", "Wooden", "Glass", "Enamel", "Paper", "Gold",
)  # fmt: skip
START = np.datetime64("2024-01-01T00:00")
DAYS = 366


@dataclass(frozen=True)
class SegmentSpec:
    """One planted segment: how its customers buy, not what they are called in a report."""

    name: str
    description: str
    share: float  # share of customers
    invoices: float  # mean invoices per customer (at least 1)
    lines: float  # mean distinct products per invoice (at least 1)
    quantity: float  # mean units per line (at least 1)
    price_bias: float  # exponent on list price in product choice: >0 premium, <0 budget
    active_from: float = 0.0  # activity window as fractions of the year
    active_to: float = 1.0


DEFAULT_SEGMENTS: tuple[SegmentSpec, ...] = (
    SegmentSpec("high_value", "High-value frequent buyers", 0.12, 30, 15, 6, 1.0),
    SegmentSpec("bulk", "Bulk buyers of cheap items", 0.15, 6, 6, 60, -2.5),
    SegmentSpec("premium", "Premium occasional buyers", 0.15, 2, 5, 1.2, 3.0),
    SegmentSpec("regular", "Regular mid-value buyers", 0.30, 6, 5, 3, 0.0),
    SegmentSpec("lapsed", "Lapsed one-off low-value buyers", 0.28, 1, 4, 2, -2.0, 0.0, 0.4),
)


@dataclass
class DemoParams:
    """Generator settings (the `data.generator` block of conf/data/demo.yaml)."""

    n_rows: int = 100_000
    n_products: int = 300
    pairs_per_segment: int = 3
    pair_rate: float = 0.12  # chance an invoice of the segment includes a pair's antecedent
    pair_confidence: float = 0.7  # chance the consequent follows the antecedent
    duplicate_rate: float = 0.002  # exact duplicate lines, as a share of clean lines
    anonymous_rate: float = 0.01  # lines with no customer id
    cancel_rate: float = 0.01  # cancelled lines (invoice prefixed 'C', negative quantity)
    postage_rate: float = 0.05  # invoices that carry a POST line
    segments: list[dict] | None = None  # override DEFAULT_SEGMENTS (fields of SegmentSpec)

    def specs(self) -> tuple[SegmentSpec, ...]:
        if not self.segments:
            return DEFAULT_SEGMENTS
        return tuple(SegmentSpec(**dict(s)) for s in self.segments)


@dataclass
class Truth:
    """What was planted: segment per customer, segment specs, co-purchase pairs, dirt counts."""

    customers: pd.DataFrame  # customer_id, segment, region
    segments: pd.DataFrame  # one row per SegmentSpec
    pairs: pd.DataFrame  # segment, antecedent, consequent, rate, confidence
    products: pd.DataFrame  # product_id, product_name, category, list_price
    dirt: dict[str, int] = field(default_factory=dict)


@dataclass
class Demo:
    transactions: pd.DataFrame
    truth: Truth


def _catalogue(n: int, rng: np.random.Generator) -> pd.DataFrame:
    cat = rng.integers(0, len(CATEGORIES), n)
    cat[: len(CATEGORIES)] = np.arange(len(CATEGORIES))  # every category present
    cat_level = rng.lognormal(np.log(3.0), 0.4, len(CATEGORIES))
    price = np.round(cat_level[cat] * rng.lognormal(0.0, 0.8, n), 2).clip(0.19, None)
    popularity = 1.0 / (rng.permutation(n) + 1.0) ** 0.8
    names = [
        f"{_ADJECTIVES[i % len(_ADJECTIVES)]} {CATEGORIES[c]} item {i:04d}".upper()
        for i, c in enumerate(cat)
    ]
    return pd.DataFrame(
        {
            "product_id": [f"P{i:04d}" for i in range(n)],
            "product_name": names,
            "category": np.asarray(CATEGORIES)[cat],
            "list_price": price,
            "_cat": cat,
            "_pop": popularity,
        }
    )


def _choice_table(
    specs: tuple[SegmentSpec, ...], products: pd.DataFrame, region_pref: np.ndarray
) -> np.ndarray:
    """Cumulative product-choice distribution per (segment, region), offset by row number.

    Row r holds values in [r, r+1], so one `searchsorted` on the flattened table draws products
    for every line at once, whatever its segment and region.
    """
    price = products["list_price"].to_numpy()
    pop = products["_pop"].to_numpy()
    cat = products["_cat"].to_numpy()
    rows = []
    for spec in specs:
        for r in range(region_pref.shape[0]):
            w = pop * price**spec.price_bias * region_pref[r, cat]
            c = np.cumsum(w / w.sum())
            c[-1] = 1.0
            rows.append(c + len(rows))
    return np.concatenate(rows)


def _draw(table: np.ndarray, key: np.ndarray, n_products: int, rng: np.random.Generator):
    idx = np.searchsorted(table, key + rng.random(key.size), side="left")
    return (idx - key * n_products).clip(0, n_products - 1)


def _apportion(share: np.ndarray, n: int) -> np.ndarray:
    """Split n customers by share exactly (largest remainders), so small demos keep the mix."""
    raw = share / share.sum() * n
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: n - counts.sum()]] += 1
    return counts


def _units(mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Overdispersed positive integer quantities with the given means (lognormal, sigma 0.5)."""
    sigma = 0.35
    q = np.rint(np.exp(rng.normal(np.log(mean) - sigma**2 / 2, sigma)))
    return np.maximum(q, 1).astype(np.int64)


def expected_lines_per_customer(params: DemoParams) -> float:
    specs = params.specs()
    per_invoice = np.array(
        [s.lines + params.pairs_per_segment * params.pair_rate * (1 + params.pair_confidence)
         for s in specs]
    )  # fmt: skip
    inv = np.array([s.invoices for s in specs])
    share = np.array([s.share for s in specs])
    return float((share / share.sum() * inv * per_invoice).sum())


def generate(params: DemoParams | None = None, seed: int = 0) -> Demo:
    """Generate about `params.n_rows` clean lines plus dirt, deterministic for a seed.

    The customer count comes from a small pilot run: merging repeated products within an
    invoice removes a segment-mix-dependent share of lines that no closed formula predicts.
    """
    params = params or DemoParams()
    guess = params.n_rows / expected_lines_per_customer(params)
    pilot_customers = max(50, round(min(guess, 2_000)))
    pilot = _generate(params, pilot_customers, seed)
    seg = pilot.truth.segments
    share = seg["share"] / seg["share"].sum()
    rate = seg["lines_per_customer"].fillna(seg["lines_per_customer"].mean())
    per_customer = float((share * rate).sum())
    n_cust = max(4 * len(params.specs()), round(params.n_rows / per_customer))
    return pilot if n_cust == pilot_customers else _generate(params, n_cust, seed)


def _generate(params: DemoParams, n_cust: int, seed: int) -> Demo:
    specs = params.specs()
    if not 1 <= len(specs) <= 12:
        raise ValueError("data.generator.segments: between 1 and 12 segments")
    if params.n_products < len(CATEGORIES) + 2 * len(specs) * params.pairs_per_segment:
        raise ValueError("data.generator.n_products too small for the planted pairs")
    rng = np.random.default_rng(seed)
    n_seg, n_reg = len(specs), len(REGIONS)

    products = _catalogue(params.n_products, rng)
    region_pref = rng.dirichlet(np.full(len(CATEGORIES), 1.5), n_reg)
    table = _choice_table(specs, products, region_pref)
    n_prod = params.n_products

    # customers
    share = np.array([s.share for s in specs], dtype=float)
    seg = rng.permutation(np.repeat(np.arange(n_seg), _apportion(share, n_cust)))
    region = rng.integers(0, n_reg, n_cust)

    # invoices
    inv_mean = np.array([s.invoices for s in specs])[seg]
    n_inv_c = 1 + rng.poisson(np.maximum(inv_mean - 1, 0))
    inv_cust = np.repeat(np.arange(n_cust), n_inv_c)
    inv_seg = seg[inv_cust]
    lo = np.array([s.active_from for s in specs])[inv_seg]
    hi = np.array([s.active_to for s in specs])[inv_seg]
    minutes = ((lo + (hi - lo) * rng.random(inv_cust.size)) * (DAYS - 1)).astype(np.int64) * 1440
    minutes += rng.integers(8 * 60, 20 * 60, inv_cust.size)  # shop hours
    order = np.argsort(minutes, kind="stable")  # invoice numbers rise with time
    inv_cust, inv_seg, minutes = inv_cust[order], inv_seg[order], minutes[order]
    n_inv = inv_cust.size

    # lines: natural picks, then planted antecedents, then their consequents
    line_mean = np.array([s.lines for s in specs])[inv_seg]
    n_lines_i = 1 + rng.poisson(np.maximum(line_mean - 1, 0))
    line_inv = np.repeat(np.arange(n_inv), n_lines_i)
    key = inv_seg[line_inv] * n_reg + region[inv_cust[line_inv]]
    line_prod = _draw(table, key, n_prod, rng)

    k = params.pairs_per_segment
    pair_prods = rng.choice(n_prod, size=(n_seg, k, 2), replace=False)
    ante_inv, ante_prod = [], []
    for s in range(n_seg):
        inv_s = np.flatnonzero(inv_seg == s)
        for j in range(k):
            hit = inv_s[rng.random(inv_s.size) < params.pair_rate]
            ante_inv.append(hit)
            ante_prod.append(np.full(hit.size, pair_prods[s, j, 0]))
    line_inv = np.concatenate([line_inv, *ante_inv])
    line_prod = np.concatenate([line_prod, *ante_prod])
    consequent = np.full((n_seg, n_prod), -1)
    for s in range(n_seg):
        consequent[s, pair_prods[s, :, 0]] = pair_prods[s, :, 1]
    cons = consequent[inv_seg[line_inv], line_prod]
    fire = (cons >= 0) & (rng.random(cons.size) < params.pair_confidence)
    line_inv = np.concatenate([line_inv, line_inv[fire]])
    line_prod = np.concatenate([line_prod, cons[fire]])

    # one line per product per invoice, in invoice order
    uniq = np.sort(line_inv.astype(np.int64) * n_prod + line_prod)  # sort, then drop repeats:
    uniq = uniq[np.r_[True, uniq[1:] != uniq[:-1]]]  # np.unique's hashing is slower here
    line_inv, line_prod = uniq // n_prod, uniq % n_prod
    line_cust = inv_cust[line_inv]
    qty = _units(np.array([s.quantity for s in specs])[seg[line_cust]], rng)
    price = products["list_price"].to_numpy()[line_prod]

    cust_ids = np.array([f"C{i:06d}" for i in range(n_cust)], dtype=object)
    tx = pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(line_cust, cust_ids),
            "invoice_no": line_inv + 500_000,
            "invoice_date": START + minutes[line_inv].astype("timedelta64[m]"),
            "product_id": line_prod,
            "quantity": qty,
            "unit_price": price,
            "region": pd.Categorical.from_codes(region[line_cust], REGIONS),
        }
    )
    tx, dirt = add_dirt(tx, params, n_inv, rng)

    inv_str = tx["invoice_no"].to_numpy()
    cancelled = tx.pop("cancelled").to_numpy()
    codes, uniques = pd.factorize(inv_str)
    # factorize numbers invoices by first appearance: a code's first row is where it exceeds
    # every code before it
    first_row = np.flatnonzero(np.r_[True, codes[1:] > np.maximum.accumulate(codes)[:-1]])
    labels = np.char.add(np.where(cancelled[first_row], "C", ""), uniques.astype(str))
    tx["invoice_no"] = pd.Categorical.from_codes(codes, labels)
    prod_ids = np.append(products["product_id"].to_numpy(dtype=object), "POST")
    prod_names = np.append(products["product_name"].to_numpy(dtype=object), "POSTAGE")
    prod_cats = np.append(products["category"].to_numpy(dtype=object), "Services")
    p = tx["product_id"].to_numpy()
    tx = tx.rename(columns={"invoice_no": "invoice_id"})
    tx["product_id"] = pd.Categorical.from_codes(p, prod_ids)
    tx["amount"] = tx["quantity"] * tx["unit_price"]
    tx["product_name"] = pd.Categorical.from_codes(p, prod_names)
    tx["category"] = pd.Categorical(prod_cats[p])
    tx = tx[
        ["customer_id", "invoice_id", "invoice_date", "product_id", "quantity", "unit_price",
         "amount", "product_name", "category", "region"]
    ]  # fmt: skip

    names = [s.name for s in specs]
    truth = Truth(
        customers=pd.DataFrame(
            {
                "customer_id": cust_ids.astype(str),
                "segment": np.asarray(names)[seg],
                "region": np.asarray(REGIONS)[region],
            }
        ),
        segments=pd.DataFrame([s.__dict__ for s in specs]).assign(
            customers=np.bincount(seg, minlength=n_seg),
            lines_per_customer=np.bincount(seg[line_cust], minlength=n_seg)
            / np.bincount(seg, minlength=n_seg).clip(1),
        ),
        pairs=pd.DataFrame(
            [
                {
                    "segment": names[s],
                    "antecedent": f"P{pair_prods[s, j, 0]:04d}",
                    "consequent": f"P{pair_prods[s, j, 1]:04d}",
                    "rate": params.pair_rate,
                    "confidence": params.pair_confidence,
                }
                for s in range(n_seg)
                for j in range(k)
            ]
        ),
        products=products.drop(columns=["_cat", "_pop"]),
        dirt=dirt,
    )
    return Demo(tx, truth)
