"""EASE^R (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data").

An item-item ridge regression with a zero diagonal, solved in closed form: with the Gram matrix
G = X^T X + l2 I and P = G^-1, the weights are B = -P / diag(P) off the diagonal and 0 on it.
Each item is predicted from all the others, so negative weights (items that substitute rather
than complement) count too: that is why it ranks better than a similarity kept to its positive
top neighbours. It needs an items x items inverse: seconds for a few thousand items, too much
memory beyond `max_items`, where the model falls back to SAR.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from custseg.recommend.history import History
from custseg.recommend.itemitem import ItemItem


class EASE(ItemItem):
    """Closed-form item-item ridge regression on bought / not bought."""

    source = "ease"

    def __init__(self, l2: float = 300.0) -> None:
        super().__init__()
        if l2 <= 0:
            raise ValueError(f"recommend.ease.l2 must be positive, got {l2}")
        self.l2 = l2

    def fit_history(self, bought: History) -> EASE:
        """Learn B from the customers x items purchases."""
        shared = bought.cooccurrence()
        if shared is None:
            x = bought.matrix.astype(np.float64)
            gram = (x.T @ x).toarray()
        else:
            gram = shared.copy()  # the inverse overwrites it
        gram[np.diag_indices_from(gram)] += self.l2
        inverse = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = -inverse / np.diag(inverse)
        np.fill_diagonal(weights, 0.0)
        self._learned(bought.item_labels.to_numpy(dtype=object), weights.astype(np.float32))
        return self

    def _describe(self, item: str, value: float) -> str:
        return f"goes with {item} (EASE weight {value:.3f})"
