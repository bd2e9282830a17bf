"""Customer value: who is still active and what each customer is worth next.

BG/NBD (Fader, Hardie & Lee 2005) models each customer's repeat purchases and P(alive),
Gamma-Gamma their average order value; together they give a discounted customer lifetime value.
Fitted by maximum likelihood with pymc-marketing, which is imported only when a model is fitted
or used, so importing this package costs nothing at start-up.
"""

import logging

from custseg.value.holdout import Holdout, validate
from custseg.value.model import ValueModel
from custseg.value.summary import purchase_summary

# arviz announces at INFO, on import, each optional part it lacks: not news for a run's log
logging.getLogger("arviz.preview").setLevel(logging.WARNING)

__all__ = ["Holdout", "ValueModel", "purchase_summary", "validate"]
