"""Unit tests of hitrate.scoring on small hand-made frames."""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from hitrate.errors import UserInputError
from hitrate.scoring import (
    MISSING,
    OTHER,
    FeatureTransformer,
    OdooNaiveBayes,
    evaluate,
    frame_hash,
    leakage_report,
    load_model,
    save_model,
    split,
)


def small_frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "id": [f"L{i:05d}" for i in range(n)],
            "source": rng.choice(["Google", "Direct", "Select", "Referral"], n),
            "visits": rng.poisson(3, n).astype(float),
            "constant": "No",
            "copy_of_outcome": np.where(rng.random(n) < 0.95, y, 1 - y).astype(str),
            "note": np.where(rng.random(n) < np.where(y == 1, 0.8, 0.1), rng.choice(["called", "x"], n), None),
        }
    )
    return frame, y


# ---------------------------------------------------------------- features


def test_features_kinds_placeholders_constants() -> None:
    frame = pd.DataFrame(
        {
            "n": ["1", "2.5", "", "4"],
            "mixed": ["1", "2", "three", "4"],
            "c": ["a", "Select", " a ", None],
            "k": ["same"] * 4,
            "allmiss": ["Select", "", None, "select"],
        }
    )
    ft = FeatureTransformer().fit(frame)
    assert ft.spec_.numeric == ("n",)
    assert ft.spec_.categorical == ("mixed", "c")
    assert dict(ft.spec_.dropped) == {"k": "constant: one value", "allmiss": "constant: one value"}
    out = ft.transform(frame)
    assert out["n"].tolist()[:2] == [1.0, 2.5] and math.isnan(out["n"].iloc[2])
    assert out["c"].tolist() == ["a", MISSING, "a", MISSING]
    assert ft.medians_["n"] == 2.5
    assert ft.reference_levels_["c"] == MISSING


def test_features_custom_missing_values_unseen_and_layout() -> None:
    frame = pd.DataFrame({"c": ["a", "n/a", "b", "a"], "x": [1, 2, 3, 4]})
    ft = FeatureTransformer(missing_values=["n/a"]).fit(frame)
    assert ft.transform(frame)["c"].tolist() == ["a", MISSING, "b", "a"]
    new = pd.DataFrame({"x": [5], "c": ["zzz"], "extra": [0]})
    assert ft.transform(new)["c"].tolist() == [OTHER]
    with pytest.raises(UserInputError, match="missing feature column.*'c'"):
        ft.transform(pd.DataFrame({"x": [1]}))
    # default placeholders are not missing once missing_values is replaced
    assert FeatureTransformer(missing_values=["n/a"]).fit(pd.DataFrame({"c": ["Select", "a"]})).transform(
        pd.DataFrame({"c": ["Select"]})
    )["c"].tolist() == ["Select"]


def test_features_max_levels_folds_rare_levels() -> None:
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"]})
    ft = FeatureTransformer(max_levels=2).fit(frame)
    assert ft.levels_["c"] == ["a", "b", MISSING, OTHER]
    assert ft.transform(frame)["c"].tolist()[-1] == OTHER
    with pytest.raises(UserInputError, match="max_levels"):
        FeatureTransformer(max_levels=0).fit(frame)


# ---------------------------------------------------------------- leakage


def test_leakage_decisions_on_synthetic_frame() -> None:
    frame, y = small_frame()
    rep = {s.column: s for s in leakage_report(frame, y, exclude=["visits"])}
    assert rep["copy_of_outcome"].decision == "excluded"
    assert rep["copy_of_outcome"].auc > 0.9
    assert rep["copy_of_outcome"].reason.startswith(f"single-feature AUC {rep['copy_of_outcome'].auc:.2f}")
    assert rep["id"].reason == "unique per row: an identifier"
    assert rep["visits"].reason == "excluded by request"
    assert rep["source"].decision == "ok" and 0.35 < rep["source"].auc < 0.65
    # 'note' is mostly filled in for won rows only: missingness depends on the outcome
    note = rep["note"]
    assert abs(note.missing_won - 0.2) < 0.1 and abs(note.missing_lost - 0.9) < 0.1
    assert note.missing_auc < 0.25  # being missing predicts losing
    assert math.isnan(rep["constant"].auc) and rep["constant"].decision == "ok"
    rep2 = {s.column: s for s in leakage_report(frame, y, threshold=0.99, warn_threshold=0.99)}
    assert rep2["note"].decision == "warning"
    assert rep2["note"].reason.endswith("of lost rows: missingness depends on the outcome")
    assert rep2["source"].decision == "ok" and rep2["source"].reason == ""


def test_leakage_rejects_bad_input() -> None:
    frame, y = small_frame(60)
    with pytest.raises(UserInputError, match="allow: unknown column"):
        leakage_report(frame, y, allow=["nope"])
    with pytest.raises(UserInputError, match="y: expected only 1"):
        leakage_report(frame, np.where(y == 1, 2, 0))
    with pytest.raises(UserInputError, match="y: expected 60 outcomes"):
        leakage_report(frame, y[:10])


def test_leakage_auc_is_out_of_fold() -> None:
    # a pure-noise column with a new level per two rows: in-sample level means would score far above 0.5
    rng = np.random.default_rng(1)
    n = 600
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"noise": [f"v{i // 2}" for i in range(n)]})
    (s,) = leakage_report(frame, y)
    assert s.auc < 0.6


# ---------------------------------------------------------------- Odoo baseline


def test_odoo_naive_bayes_matches_hand_computation() -> None:
    frame = pd.DataFrame({"src": ["a", "a", "b", "b", "b", None], "tag": ["x", "y", "x", "x", "y", "x"]})
    y = np.array([1, 1, 1, 0, 0, 0])
    nb = OdooNaiveBayes(fields=["src", "tag"]).fit(frame, y)
    # src: a won 2 lost 0; b won 1 lost 2 (missing skipped). +0.1 each.
    assert nb.frequencies_["src"] == {"a": [2.1, 0.1], "b": [1.1, 2.1]}
    assert nb.totals_["src"] == pytest.approx([3.2, 2.2])
    # lead (src=a, tag=y): prior 3:3, then a: 2.1/3.2 vs 0.1/2.2; tag y: won 1.1/3.2 vs lost 1.1/3.2
    won = 3 * (2.1 / 3.2) * (1.1 / 3.2)
    lost = 3 * (0.1 / 2.2) * (1.1 / 3.2)
    p = nb.predict_proba(pd.DataFrame({"src": ["a"], "tag": ["y"]}))[0, 1]
    assert p == pytest.approx(won / (won + lost))
    # unseen and missing values are skipped: only the prior is left
    p0 = nb.predict_proba(pd.DataFrame({"src": ["zzz"], "tag": [None]}))[0, 1]
    assert p0 == pytest.approx(0.5)


def test_odoo_naive_bayes_double_counts_correlated_fields() -> None:
    frame, y = small_frame(300, seed=3)
    one = OdooNaiveBayes(fields=["source"]).fit(frame, y)
    twice = frame.assign(source2=frame["source"])
    two = OdooNaiveBayes(fields=["source", "source2"]).fit(twice, y)
    prior = math.log(one.n_won_ / one.n_lost_)

    def logit(p: np.ndarray) -> np.ndarray:
        return np.log(p / (1 - p))

    shift1 = logit(one.predict_proba(frame)[:, 1]) - prior
    shift2 = logit(two.predict_proba(twice)[:, 1]) - prior
    assert np.allclose(shift2, 2 * shift1)
    assert np.abs(shift1).max() > 0.01


# ---------------------------------------------------------------- evaluation


def test_evaluate_matches_sklearn_and_hand_counts() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.3 * y + rng.random(200) * 0.7, 0.001, 0.999)
    m = evaluate(y, p)
    assert m["auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert m["log_loss"] == pytest.approx(log_loss(y, p))
    assert sum(b["count"] for b in m["calibration"]) == 200
    for b in m["calibration"]:
        inside = (p >= b["bin_low"]) & ((p < b["bin_high"]) | (b["bin_high"] == 1.0))
        assert b["count"] == inside.sum()
        assert b["mean_predicted"] == pytest.approx(p[inside].mean())
        assert b["observed"] == pytest.approx(y[inside].mean())
    order = np.argsort(-p)
    for t in m["top"]:
        k = math.ceil(200 * t["share"] / 100)
        assert t["leads"] == k and t["hits"] == y[order[:k]].sum()
        assert t["hit_rate"] == pytest.approx(y[order[:k]].mean())
    assert [t["share"] for t in m["top"]] == [10, 20, 30, 50]
    assert [d["n"] for d in m["deciles"]] == [20] * 10
    assert m["deciles"][-1]["cumulative_gain"] == pytest.approx(1.0)
    assert m["deciles"][0]["lift"] == pytest.approx(y[order[:20]].mean() / y.mean())
    assert any("thin test data" in w for w in m["warnings"])


def test_evaluate_top_k_on_a_fixed_example() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0])
    p = np.linspace(0.95, 0.05, 10)
    m = evaluate(y, p, y_train=np.r_[np.ones(150), np.zeros(50)])
    top = {t["share"]: (t["leads"], t["hits"]) for t in m["top"]}
    assert top == {10: (1, 1), 20: (2, 2), 30: (3, 2), 50: (5, 3)}
    assert any("thin training data: 150 wins and 50 losses" in w for w in m["warnings"])
    with pytest.raises(UserInputError, match="p: expected 10 probabilities"):
        evaluate(y, p[:5])
    with pytest.raises(UserInputError, match="p: expected probabilities between 0 and 1"):
        evaluate(y, p + 1)


def test_split_by_time_and_open_rows() -> None:
    n = 200
    frame = pd.DataFrame(
        {
            "created": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
            "won": np.r_[np.tile([1, 0], 95), [np.nan] * 10],
            "x": np.arange(n),
        }
    )
    s = split(frame, "won", dates="created", test_size=0.25)
    assert s.method == "time"
    assert len(s.train) + len(s.test) == 190
    assert pd.to_datetime(s.train["created"]).max() < pd.to_datetime(s.test["created"]).min()
    assert len(s.test) == round(190 * 0.25)
    assert s.cutoff == pd.to_datetime(s.test["created"]).min()
    with pytest.raises(UserInputError, match="dates: column 'when'"):
        split(frame, "won", dates="when")


# ---------------------------------------------------------------- io


class Untrusted:
    """A type that is not on the allow-list."""


def test_load_refuses_types_outside_the_allow_list(tmp_path: Path) -> None:
    frame, y = small_frame(100)
    nb = OdooNaiveBayes(fields=["source"]).fit(frame, y)
    good = tmp_path / "nb.model"
    save_model(nb, good, training_frame=frame)
    assert np.array_equal(load_model(good).model.predict_proba(frame), nb.predict_proba(frame))
    nb.smuggled_ = Untrusted()
    blob = sio.dumps(nb)
    with zipfile.ZipFile(io.BytesIO(good.read_bytes())) as zf:
        meta = json.loads(zf.read("metadata.json"))
    meta["model_sha256"] = hashlib.sha256(blob).hexdigest()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.skops", blob)
        zf.writestr("metadata.json", json.dumps(meta))
    bad = tmp_path / "bad.model"
    bad.write_bytes(buf.getvalue())
    with pytest.raises(UserInputError, match=r"outside the allow-list: .*Untrusted"):
        load_model(bad)


def test_load_refuses_non_model_files(tmp_path: Path) -> None:
    path = tmp_path / "x.model"
    path.write_bytes(b"not a zip")
    with pytest.raises(UserInputError, match="damaged or was modified"):
        load_model(path)
    with pytest.raises(UserInputError, match="model file not found"):
        load_model(tmp_path / "absent.model")


def test_frame_hash_is_canonical() -> None:
    a = pd.DataFrame({"x": [0.1, 0.2], "y": ["a", "b"]})
    b = a[["y", "x"]].set_axis([10, 11])
    assert frame_hash(a) == frame_hash(b)
    assert frame_hash(a) != frame_hash(a.assign(x=[0.1, 0.2000000001]))
    assert frame_hash(a) != frame_hash(a.iloc[::-1])
