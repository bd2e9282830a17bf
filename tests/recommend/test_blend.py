from __future__ import annotations

import pandas as pd
import pytest

from custseg.recommend.blend import MODES, blend
from custseg.recommend.frame import empty_recs
from custseg.recommend.topup import top_up


def _recs(source: str, rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in rows],
            "item": [i for _, i, _ in rows],
            "score": [s for _, _, s in rows],
            "source": source,
            "reason": [f"{source}:{i}" for _, i, _ in rows],
        }
    )


FRAMES = {
    "cs": _recs("crosssell", [("c1", "X", 0.9), ("c1", "Y", 0.5)]),
    "fav": _recs(
        "favourite", [("c1", "Y", 0.6), ("c1", "Z", 0.3), ("c2", "Z", 0.8), ("c2", "W", 0.4)]
    ),
    "pop": _recs("popular", [("c1", "W", 0.7), ("c2", "W", 0.9), ("c2", "V", 0.1)]),
}


def _rows(out: pd.DataFrame) -> list[tuple]:
    return list(out[["customer_id", "item", "source", "rank"]].itertuples(index=False, name=None))


def test_order_fills_from_sources_in_priority_skipping_taken_items():
    out = blend(FRAMES, ["cs", "fav", "pop"], None, k=3, mode="order")
    assert _rows(out) == [
        ("c1", "X", "cs", 1),
        ("c1", "Y", "cs", 2),
        ("c1", "Z", "fav", 3),  # Y from fav is already taken
        ("c2", "Z", "fav", 1),
        ("c2", "W", "fav", 2),
        ("c2", "V", "pop", 3),
    ]
    assert out["score"].tolist() == pytest.approx([1, 2 / 3, 1 / 3] * 2)
    assert out["reason"].tolist()[:3] == ["crosssell:X", "crosssell:Y", "favourite:Z"]
    assert _rows(blend(FRAMES, ["pop", "cs"], None, k=1)) == [
        ("c1", "W", "pop", 1),
        ("c2", "W", "pop", 1),
    ]


def test_weights_normalise_per_customer_and_sum_over_sources():
    out = blend(FRAMES, ["cs", "fav", "pop"], {"cs": 2.0, "fav": 1.0, "pop": 1.0}, k=10)
    # c1: cs X 0.9/0.9, Y 0.5/0.9; fav Y 1, Z 0.5; pop W 1
    # c2: fav Z 1, W 0.5; pop W 1, V 0.1/0.9
    assert _rows(out) == [
        ("c1", "Y", "cs+fav", 1),
        ("c1", "X", "cs", 2),
        ("c1", "W", "pop", 3),
        ("c1", "Z", "fav", 4),
        ("c2", "W", "fav+pop", 1),
        ("c2", "Z", "fav", 2),
        ("c2", "V", "pop", 3),
    ]
    assert out["score"].tolist() == pytest.approx([2 * 5 / 9 + 1, 2, 1, 0.5, 1.5, 1, 1 / 9])
    # the reason is the biggest contributor's: cs gives Y 10/9, fav 1; pop gives W 1, fav 0.5
    assert out.set_index(["customer_id", "item"]).loc[("c1", "Y"), "reason"] == "crosssell:Y"
    assert out.set_index(["customer_id", "item"]).loc[("c2", "W"), "reason"] == "popular:W"
    top = blend(FRAMES, ["cs", "fav", "pop"], {"cs": 2.0, "fav": 1.0, "pop": 1.0}, k=1)
    assert top["item"].tolist() == ["Y", "W"]


def test_modes_registry_and_errors():
    assert set(MODES) == {"order", "weights"}
    with pytest.raises(ValueError, match="unknown mode 'mix'"):
        blend(FRAMES, ["cs"], None, k=3, mode="mix")
    with pytest.raises(ValueError, match=r"no weight for source\(s\) \['pop'\]"):
        blend(FRAMES, ["cs", "pop"], {"cs": 1.0}, k=3)
    with pytest.raises(ValueError, match="not among the sources"):
        blend(FRAMES, ["rules"], None, k=3)
    empty = blend({"cs": FRAMES["cs"].iloc[:0]}, ["cs"], None, k=3)
    assert empty.empty and "rank" in empty.columns


@pytest.mark.parametrize("mode", ["order", "weights"])
def test_an_empty_source_is_skipped(mode):
    frames = {"none": empty_recs(), **FRAMES}
    names = ["none", "cs", "fav", "pop"]
    weights = {n: 1.0 for n in names}
    out = blend(frames, names, weights, k=3, mode=mode)
    assert "none" not in "+".join(out["source"])
    assert out.groupby("customer_id")["rank"].agg(list).to_dict() == {
        "c1": [1, 2, 3],
        "c2": [1, 2, 3],
    }


@pytest.mark.parametrize("mode", sorted(MODES))
def test_text_columns_are_categoricals_of_the_same_values_whatever_the_input(mode):
    """Recommenders hand over categoricals (a string per distinct value, not per row); blending
    them or the same frames as plain text gives one answer, with sorted used categories."""
    weights = {"cs": 2.0, "fav": 1.0, "pop": 1.0}
    plain = blend(FRAMES, ["cs", "fav", "pop"], weights, k=2, mode=mode)
    coded = {n: f.astype({c: "category" for c in ("customer_id", "item", "source", "reason")})
             for n, f in FRAMES.items()}  # fmt: skip
    pd.testing.assert_frame_equal(blend(coded, ["cs", "fav", "pop"], weights, k=2, mode=mode),
                                  plain)  # fmt: skip
    for col in ("customer_id", "item", "source", "reason"):
        cats = plain[col].cat.categories
        assert cats.is_monotonic_increasing and set(cats) == set(plain[col])
    assert plain["reason"].astype("str").str.contains(":").all()


def test_top_up_completes_short_lists_after_their_own_items():
    main = blend({"s": pd.DataFrame({"customer_id": ["a", "a", "c"], "item": ["X", "Y", "Z"],
                                     "score": [2.0, 1.0, 1.0], "source": "s", "reason": "r"})},
                 None, None, 2)  # fmt: skip
    fill = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
                         "item": ["Y", "P", "Q", "P", "Q"], "score": [3.0, 2.0, 1.0, 2.0, 1.0],
                         "source": "favourite", "reason": "f"})  # fmt: skip
    short = fill[fill["customer_id"] != "a"]  # a's list is full at k = 2
    out = top_up(main, [short], 2)
    got = list(zip(out["customer_id"].astype(str), out["item"].astype(str), out["rank"],
                   out["source"].astype(str), strict=True))  # fmt: skip
    assert got == [("a", "X", 1, "s"), ("a", "Y", 2, "s"), ("b", "P", 1, "favourite"),
                   ("b", "Q", 2, "favourite"), ("c", "Z", 1, "s")]  # fmt: skip
    three = top_up(blend({"s": main.drop(columns="rank")}, None, None, 3), [fill], 3)
    a = three[three["customer_id"] == "a"]
    assert a["item"].astype(str).tolist() == ["X", "Y", "P"]  # Y not twice; P fills rank 3
    assert a["score"].tolist()[-1] == 0.0
    assert isinstance(three["item"].dtype, pd.CategoricalDtype)
    assert three["item"].cat.categories.is_monotonic_increasing


@pytest.mark.parametrize("mode", sorted(MODES))
def test_blending_in_runs_of_customers_gives_the_same_lists(mode, monkeypatch):
    """At scale the stacked rows are blended a run of customers at a time to bound memory;
    every mode works per customer, so the lists, scores and reasons must not change."""
    import numpy as np

    from custseg.recommend import blend as module

    rng = np.random.default_rng(7)
    frames = {}
    for name in ("a", "b", "c"):
        rows = [(f"c{c:03d}", f"i{i:02d}", float(rng.random()))
                for c in range(60) for i in rng.choice(30, 6, replace=False)]  # fmt: skip
        frames[name] = _recs(name, rows)
    weights = {"a": 1.0, "b": 0.5, "c": 0.25}
    whole = blend(frames, ["a", "b", "c"], weights, k=5, mode=mode)
    monkeypatch.setattr(module, "CHUNK_ROWS", 100)  # 1,080 rows: 11 runs
    pd.testing.assert_frame_equal(blend(frames, ["a", "b", "c"], weights, k=5, mode=mode), whole)
