"""The `value` group's schema: the buy-till-you-die models and what they predict.

One option today (BG/NBD for the purchase process, Gamma-Gamma for spend); `purchase_model` and
`spend_model` name them so a Pareto/NBD option can join without renaming keys.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from custseg.config.base import Count, Float, Fraction, Int, Off, Section, switch


class Value(Section):
    enabled: Literal[True]
    purchase_model: Literal["bgnbd"]  # repeat purchases and P(alive)
    spend_model: Literal["gamma_gamma"]  # average order value of a customer's future purchases
    horizon_days: Count  # expected purchases over the next this many days
    clv_months: Count  # lifetime value over this many months
    discount_rate: Annotated[Float, Field(ge=0.0, lt=1.0)]  # per month, for the CLV's present value
    holdout_days: Annotated[Int, Field(ge=0)]  # validation: fit without the last N days; 0 = none
    lapsed_below: Fraction  # P(alive) under this counts a customer as likely lapsed


ValueGroup = Annotated[
    Annotated[Value, Tag("on")] | Annotated[Off, Tag("off")], Discriminator(switch)
]
