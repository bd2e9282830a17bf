"""The served model's input contract, checked before anything is scored.

MLflow's scoring server enforces a signature's input schema by keeping the declared columns and
silently dropping any other: a misspelt feature column would be scored as zero and answered
with a made-up segment. And whatever the model raises reaches the client with the Python
traceback in the body. So the logged signature declares the outputs only (`pyfunc.signature`),
and this module is the input contract: the three payloads a model answers (customer lines, a
features table, basket lines, told apart by `custseg.serving.kind`), their columns and what each
column may hold, checked before the model runs. Every problem found is reported at once in a
`PayloadError`, each naming its field, the problem, a few rows and the fix; `refusal` gives an
error the model itself raises the same shape. `contract` is the same rules as data, written to
the model's MLmodel metadata for clients to read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from custseg.clean import CleaningError
from custseg.data.dates import parse_dates
from custseg.data.errors import SchemaError
from custseg.data.schema import CANONICAL
from custseg.hints import did_you_mean
from custseg.serving import BASKETS, FEATURES, TRANSACTIONS, kind
from custseg.tracking.cells import MAX_TEXT, Problem, Rule, check_column, found, show

if TYPE_CHECKING:
    from custseg.model import CustomerModel

MAX_ROWS = 100_000  # lines in one request; a bigger batch is `custseg score`'s job
MAX_PROBLEMS = 20  # problems listed in one answer (the count says how many more)
DERIVABLE = ("amount", "unit_price", "invoice_id")  # empty on every line = left out: derived
DATE_FIX = (
    "send every invoice_date as text in one layout, best ISO 8601 (2011-02-01 10:30:00): "
    "01/02/2011 reads as January or February"
)
CONTRACT_HINT = "the model's MLmodel metadata (custseg_input) lists the columns of each payload"

RULES: dict[str, Rule] = {
    "customer_id": Rule("text", nulls=True),  # lines without one are dropped, as in batch
    "invoice_id": Rule("text", nulls=False, derived="customer x day is the invoice"),
    "invoice_date": Rule("date", nulls=False),
    "product_id": Rule("text", nulls=True),
    "quantity": Rule("number", nulls=False, derived="1 unit per line"),  # < 0: a return
    "unit_price": Rule("number", nulls=False, minimum=0.0, derived="amount / quantity"),
    "amount": Rule("number", nulls=False, derived="quantity x unit_price"),
    "weight": Rule("number", nulls=True, minimum=0.0),
    "margin": Rule("number", nulls=True),  # a loss-making line has a negative margin
    "product_name": Rule("text", nulls=True),
    "category": Rule("text", nulls=True),
    "region": Rule("text", nulls=True),
}
FEATURE = Rule("number", nulls=False, minimum=0.0)  # totals, counts, shares, days: never < 0
CUSTOMER = Rule("text", nulls=False)  # a features table row belongs to one named customer

# what to do about an error the model raised after the check, by column (served wording: the
# model's own messages speak of config keys a client cannot set)
SERVED_FIXES = {
    "invoice_date": DATE_FIX,
    "invoice_id": "give each invoice id to one customer, or leave invoice_id out (customer x "
    "day becomes the invoice)",
    "customer_id": "send a customer_id on the lines of each customer",
}
NOTHING_LEFT_FIX = (
    "send lines the model's cleaning rules keep: a customer id, a positive quantity and price, "
    "a product rather than postage or a fee"
)


class PayloadError(ValueError):
    """A payload the served model refuses, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        hidden = len(problems) - len(shown)
        more = f", {hidden} more not shown" if hidden else ""
        items = " ".join(f"({i}) {p.field}: {p.problem}. Fix: {p.fix}."
                         for i, p in enumerate(shown, 1))  # fmt: skip
        super().__init__(f"payload refused, {len(problems)} problem(s){more}: {items}")

    def errors(self) -> list[dict[str, Any]]:
        """The problems as JSON-ready records (at most MAX_PROBLEMS)."""
        return [p.as_dict() for p in self.problems[:MAX_PROBLEMS]]


def _groups(model: CustomerModel) -> dict[tuple[str, ...], str]:
    """Columns customer lines must carry for this model (each a group of alternatives) and why:
    what the feature set needs and cannot be derived (amount is quantity x unit price, the
    invoice customer x day, quantity 1 per line), and the items when the model recommends (a
    history keeps bought items out of the cross-sell list and makes the buy-again list)."""
    name = model.config.features.name
    needs = list(getattr(model.features_, "NEEDS", ()))
    if getattr(model.config.features, "by", None) == "spend":
        needs.append("amount")
    groups = {("customer_id",): "the customer of each line",
              ("invoice_date",): "the date of each line"}  # fmt: skip
    for col in dict.fromkeys(needs):
        if RULES[col].derived is None or col == "amount":
            group = ("amount", "unit_price") if col == "amount" else (col,)
            groups.setdefault(group, f"the {name} features are built from it")
    if model.recommenders_:
        groups.setdefault((model.item_column,), "recommendations rest on what was bought")
    return groups


def contract(model: CustomerModel) -> dict[str, Any]:
    """The payloads this model answers, as data (written to the MLmodel metadata)."""
    features = list(model.features_.columns_)
    return {
        TRANSACTIONS: {
            "required": [" or ".join(group) for group in _groups(model)],
            "allowed": list(CANONICAL),
            "derived": {name: rule.derived for name, rule in RULES.items() if rule.derived},
        },
        FEATURES: {"required": ["customer_id", *features], "allowed": ["customer_id", *features]},
        BASKETS: {"required": [model.item_column],
                  "allowed": [c for c in CANONICAL if c != "customer_id"]},  # fmt: skip
        "types": {name: rule.type for name, rule in RULES.items()} | dict.fromkeys(
            features, FEATURE.type),
        "limits": {"rows": MAX_ROWS, "text_characters": MAX_TEXT},
    }  # fmt: skip


def _table(frame: pd.DataFrame) -> list[Problem]:
    """Problems of the table as a whole: no rows, too many, unnamed or repeated columns."""
    problems = []
    if frame.shape[1] == 0:
        problems.append(Problem("payload", "no columns", f"send a table; {CONTRACT_HINT}"))
    if len(frame) == 0:
        problems.append(Problem("payload", "no rows", "send at least one line"))
    if len(frame) > MAX_ROWS:
        problems.append(Problem(
            "payload", f"{len(frame):,} rows, more than the {MAX_ROWS:,} one request takes",
            "split the request, or score a file in batch with `custseg score`",
        ))  # fmt: skip
    if frame.shape[1] and all(isinstance(c, int) for c in frame.columns):
        problems.append(Problem(
            "payload", f"the columns have no names, only positions 0..{frame.shape[1] - 1}",
            "send the names: dataframe_split with its 'columns', or dataframe_records",
        ))  # fmt: skip
    names = pd.Series(list(map(str, frame.columns)))
    for name in names[names.duplicated()].drop_duplicates():
        problems.append(Problem(show(name, bare=True), "appears more than once",
                                "send each column once"))  # fmt: skip
    return problems


def _columns(model: CustomerModel, frame: pd.DataFrame, what: str) -> list[Problem]:
    """Unknown columns (with a did-you-mean), columns of another payload mixed in, and the
    required columns that are missing."""
    names = list(dict.fromkeys(map(str, frame.columns)))
    features = list(model.features_.columns_)
    known = [*CANONICAL, *features]
    problems = []
    for name in names:
        if name not in known:
            problems.append(Problem(
                show(name, bare=True),
                f"unknown column{did_you_mean(name, known)}",
                f"send only the columns of one payload; {CONTRACT_HINT}",
            ))  # fmt: skip
    if what == FEATURES:
        mixed = [n for n in names if n in CANONICAL and n != "customer_id"]
        for name in mixed:
            problems.append(Problem(
                name, "a transaction column in a features table (the payload also has feature "
                f"columns such as {next(n for n in names if n in features)!r})",
                "send either customer lines or a features table, not both",
            ))  # fmt: skip
        why = f"this model's features ({model.config.features.name}) are {features}"
        groups = dict.fromkeys([("customer_id",), *((c,) for c in features)], why)
        fix = "send every feature column (a features table is never filled in with zeros)"
    elif what == BASKETS:
        groups = {(model.item_column,): "a basket query lists the items of each basket"}
        fix = f"send the {model.item_column} of each line"
    else:
        groups, fix = _groups(model), "add it to every line"
    for group, why in groups.items():
        if not set(group) & set(names):
            alt = f", or {group[1]} ({group[0]} = {RULES[group[0]].derived})" if group[1:] else ""
            problems.append(Problem(group[0], f"missing column: {why}", fix + alt))
    return problems


def _values(frame: pd.DataFrame, what: str, features: list[str]) -> tuple[dict, list[Problem]]:
    """Each known column checked against its rule; the normalised columns by name."""
    columns, problems = {}, []
    for i, name in enumerate(map(str, frame.columns)):
        if what == FEATURES:
            rule = CUSTOMER if name == "customer_id" else FEATURE if name in features else None
        else:
            rule = RULES.get(name)
        s = frame.iloc[:, i].reset_index(drop=True)
        if rule is None or (name in DERIVABLE and what == TRANSACTIONS and s.isna().all()):
            continue  # unknown (reported), or left empty on every line: derived
        values, in_column = check_column(name, s, rule)
        problems += in_column
        columns[name] = values
    return columns, problems


def _relations(model: CustomerModel, cols: dict[str, pd.Series], what: str) -> list[Problem]:
    """Checks across columns and rows: one row per customer in a features table, an amount
    whose sign agrees with its quantity, the model's caps, dates in one readable layout."""
    problems = []
    if what == FEATURES and "customer_id" in cols:
        dup = cols["customer_id"].duplicated(keep=False) & cols["customer_id"].notna()
        if dup.any():
            problems += found(
                "customer_id",
                dup,
                cols["customer_id"],
                "the same customer on several rows",
                "send one row per customer",
            )
    if what != TRANSACTIONS:
        return problems
    if "amount" in cols:
        q = cols.get("quantity", pd.Series(1.0, index=cols["amount"].index))
        wrong = (cols["amount"] < 0) & (q > 0)
        if wrong.any():
            problems += found(
                "amount",
                wrong,
                cols["amount"],
                "negative amounts on lines with a positive quantity",
                "a return is a negative quantity (and amount); correct the sign, "
                "or leave amount out (quantity x unit_price)",
            )
    clean = model.config.clean
    for col, cap in (("quantity", clean.max_quantity), ("unit_price", clean.max_unit_price)):
        if cap is not None and col in cols and (over := cols[col] > cap).any():
            problems += found(
                col,
                over,
                cols[col],
                f"values above {cap:g}, more than any "
                "sale line has (an id or barcode in the wrong column?)",
                f"correct those lines; this model refuses {col} above {cap:g}",
            )
    if "invoice_date" in cols:
        try:
            parse_dates(cols["invoice_date"], "payload", "invoice_date", None, None)
        except SchemaError as err:
            problems.append(Problem("invoice_date", err.problem, DATE_FIX))
    return problems


def check(model: CustomerModel, data: Any) -> pd.DataFrame:
    """The payload as the table to score (ids as text, numbers as floats, empty derivable
    columns left out), or a PayloadError listing everything wrong with it."""
    try:
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    except (TypeError, ValueError):
        raise PayloadError(
            [Problem("payload", "not a table", "send dataframe_split or dataframe_records")]
        ) from None
    problems = _table(frame)
    if problems:
        raise PayloadError(problems)
    what = kind(model, frame.columns)
    problems = _columns(model, frame, what)
    cols, in_cells = _values(frame, what, list(model.features_.columns_))
    problems += in_cells
    if not problems:
        problems = _relations(model, cols, what)
    if problems:
        raise PayloadError(problems)
    return pd.DataFrame(cols)


def refusal(err: ValueError) -> PayloadError:
    """An error the model raised on a checked payload (a layout only the whole column shows,
    every line removed by cleaning, ...) as a PayloadError, with a fix in served terms."""
    if isinstance(err, PayloadError):
        return err
    if isinstance(err, CleaningError) and err.column is None:
        return PayloadError([Problem("payload", err.problem, NOTHING_LEFT_FIX)])
    if isinstance(err, SchemaError):
        field = err.column or "payload"
        fix = SERVED_FIXES.get(field, f"correct the {field} values; {CONTRACT_HINT}")
        return PayloadError([Problem(field, err.problem, fix)])
    return PayloadError([Problem("payload", show(str(err), limit=300), CONTRACT_HINT)])
