"""Which of a file's columns is which canonical column: header-name synonyms, checked against
the content (a date holds date-like text, a quantity holds numbers, an id is not a date).

A new export rarely uses custseg's names (Member_number, itemDescription, InvoiceNo), and
mapping them by hand is where a run goes wrong. `custseg inspect` prints these guesses as a
ready command line; the preflight uses them as did-you-mean hints when a mapped name matches
nothing in the file. A guess is a suggestion shown to a person, never applied silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from custseg.data.dates import infer_layout
from custseg.data.schema import CANONICAL

# header words for each canonical column, with how strongly each one points at it
SYNONYMS: dict[str, dict[str, int]] = {
    "customer_id": {"customer": 60, "cust": 55, "member": 55, "client": 55, "buyer": 50,
                    "shopper": 50, "user": 40, "account": 40, "household": 40, "loyalty": 35},
    "invoice_id": {"invoice": 60, "order": 55, "transaction": 55, "txn": 55, "trx": 50,
                   "receipt": 55, "basket": 50, "ticket": 45, "bill": 45, "sale": 30},
    "invoice_date": {"date": 60, "datetime": 60, "timestamp": 60, "time": 45, "day": 40,
                     "purchased": 35, "when": 30},
    "product_id": {"sku": 60, "product": 55, "item": 55, "stock": 50, "article": 50, "ean": 45,
                   "upc": 45, "barcode": 45, "plu": 45, "code": 25},
    "quantity": {"quantity": 70, "qty": 70, "units": 55, "pieces": 50, "pcs": 50, "count": 35},
    "unit_price": {"unitprice": 70, "price": 65, "cost": 35, "rate": 30},
    "amount": {"amount": 65, "total": 55, "subtotal": 55, "revenue": 55, "spend": 50,
               "turnover": 50, "sales": 45, "value": 45, "sum": 35, "gross": 30, "net": 25},
    "product_name": {"description": 60, "desc": 55, "title": 45, "name": 40, "label": 35},
    "category": {"category": 65, "department": 55, "dept": 55, "family": 45, "class": 40,
                 "group": 35, "type": 25},
    "region": {"region": 65, "country": 60, "state": 45, "city": 45, "location": 45,
               "territory": 45, "area": 40, "store": 35, "market": 35},
    "weight": {"weight": 65},
    "margin": {"margin": 65, "profit": 55, "contribution": 40},
}  # fmt: skip
IDS = ("customer_id", "invoice_id", "product_id")
NUMBERS = ("quantity", "unit_price", "amount", "weight", "margin")
TEXTS = ("product_name", "category", "region")
_ID_WORDS = {"id", "no", "nr", "num", "number", "code", "key", "ref"}
_NAME_WORDS = {"name", "description", "desc", "title", "label"}
_NOT_PURCHASE = {"signup", "birth", "dob", "registered", "registration", "created", "joined",
                 "expiry", "expires", "updated", "modified"}  # dates of something else
_PEOPLE = {"customer", "cust", "member", "client", "buyer", "shopper", "user"}
MIN_SCORE = 20  # below this a column is not proposed at all


@dataclass(frozen=True)
class Profile:
    """What a column holds, judged on its sampled values."""

    dtype: str
    examples: tuple[str, ...]
    numeric: bool
    integral: bool
    date_layout: str | None  # a layout with day and month, when the text reads as dates
    ambiguous: bool  # day and month could be swapped in every sampled value


@dataclass(frozen=True)
class Guess:
    column: str
    score: int
    why: str


def words(header: str) -> list[str]:
    """'itemDescription' -> ['item', 'description']; 'Member_number' -> ['member', 'number']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(header))
    return [w for w in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if w]


def profile(s: pd.Series) -> Profile:
    """dtype, three distinct example values, and whether the values are numbers or dates."""
    present = s.dropna()
    examples = tuple(str(v)[:40] for v in present.drop_duplicates().head(3))
    is_bool = pd.api.types.is_bool_dtype(s)
    numbers = pd.to_numeric(present, errors="coerce") if not is_bool else present.iloc[:0]
    numeric = len(present) > 0 and not is_bool and bool(numbers.notna().mean() >= 0.95)
    integral = numeric and bool((numbers.dropna() % 1 == 0).all())
    layout, ambiguous = None, False
    if pd.api.types.is_datetime64_any_dtype(s):
        layout = "datetime"
    elif not numeric and len(present):
        fmt, ambiguous = infer_layout(present.astype("str").head(2000))
        if fmt and "%d" in fmt and re.search("%[mbB]", fmt):
            layout = fmt
        else:
            ambiguous = False
    return Profile(str(s.dtype), examples, numeric, integral, layout, ambiguous)


def _name_score(canon: str, header: str) -> tuple[int, str]:
    """How strongly the header's words point at `canon`, and the word that does."""
    ws = words(header)
    compact = "".join(ws)
    if compact == canon.replace("_", ""):
        return 100, f"header {header!r} spells {canon}"
    best, hit = 0, ""
    for w in ws:
        for syn, score in SYNONYMS[canon].items():
            if (w == syn or (len(syn) >= 4 and w.startswith(syn))) and score > best:
                best, hit = score, syn
    if not best:
        return 0, ""
    if canon in IDS and _ID_WORDS & set(ws):
        best += 10
    if canon in IDS and _NAME_WORDS & set(ws):
        best -= 25  # 'itemDescription' names the item; an id only if nothing better exists
    if canon == "invoice_date" and _NOT_PURCHASE & set(ws):
        best = 0  # SignupDate: a date, but not of the purchase
    if canon != "customer_id" and _PEOPLE & set(ws):
        best = 0  # CustomerName, MemberSince: about the customer, not the line
    return best, f"header word {hit!r}"


def _score(canon: str, header: str, p: Profile) -> tuple[int, str]:
    """Name score adjusted by what the content allows (0: the content rules it out)."""
    score, why = _name_score(canon, header)
    if canon == "invoice_date":
        if p.date_layout is None:
            return 0, ""
        if score == 0 and _NOT_PURCHASE & set(words(header)):
            return 0, ""
        layout = "" if p.date_layout == "datetime" else f", layout {p.date_layout}"
        why = f"{why + ', ' if why else ''}date-like values{layout}"
        return (score + 20 if score else 30), why
    if not score:
        return 0, ""
    if p.date_layout is not None:
        return 0, ""  # a date column is no id, number or name
    if canon in NUMBERS:
        if not p.numeric:
            return 0, ""
        bonus = 10 if canon == "quantity" and p.integral else 0
        return score + bonus, f"{why}, numeric"
    if canon in TEXTS and p.numeric:
        return 0, ""
    if canon in IDS and p.numeric and not p.integral:
        score -= 40  # fractional numbers are measurements, not ids
    return score, why


def guess_map(
    values: Mapping[str, pd.Series], profiles: Mapping[str, Profile] | None = None
) -> dict[str, Guess]:
    """Canonical column -> the file's column that most likely holds it (only confident ones).

    Each column is used once, except that one column may be both product_id and product_name
    (a file whose items are known only by their name, like the Groceries baskets). `profiles`
    saves profiling the columns again when the caller has them."""
    profiles = profiles or {col: profile(s) for col, s in values.items()}
    order = {col: i for i, col in enumerate(values)}
    candidates = []
    for canon in CANONICAL:
        for col, p in profiles.items():
            score, why = _score(canon, str(col), p)
            if score >= MIN_SCORE:
                candidates.append((-score, order[col], canon, col, why))
    chosen: dict[str, Guess] = {}
    used: dict[str, str] = {}
    for neg, _, canon, col, why in sorted(candidates):
        if canon in chosen:
            continue
        if col in used and {used[col], canon} != {"product_id", "product_name"}:
            continue
        chosen[canon] = Guess(str(col), -neg, why)
        used.setdefault(col, canon)
    return {c: chosen[c] for c in CANONICAL if c in chosen}
