"""Segments as the recommenders read them: spelled as the rules spell them ('2', not '2.0'),
as codes into the sorted segment labels, joined onto a history's customers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.recommend.codes import labels_of


def segment_labels(segment_of: pd.Series) -> pd.Series:
    """Segment per customer as rules spell it ('2', not '2.0'); unsegmented customers dropped."""
    seg = segment_of.dropna()
    if pd.api.types.is_numeric_dtype(seg) and not pd.api.types.is_bool_dtype(seg):
        values = seg.to_numpy()
        if np.all(np.mod(values, 1) == 0):
            seg = seg.astype("int64")
    out = seg.astype("str")
    out.index = out.index.astype("str")
    return out


def segment_codes(segment_of: pd.Series, customers: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Each customer's segment as a code into sorted segment labels (-1: no segment)."""
    seg = segment_labels(segment_of)
    seg = seg.loc[~seg.index.duplicated(keep="last")]
    return labels_of(seg.reindex(customers).to_numpy())
