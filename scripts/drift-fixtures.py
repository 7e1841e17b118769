#!/usr/bin/python3
"""SciPy's and scikit-learn's values on deterministic fixtures, for the drift tests.

Run with Debian's /usr/bin/python3 (python3-scipy, python3-sklearn):
    /usr/bin/python3 scripts/drift-fixtures.py > test/fixtures/drift.json
Samples come from a 31-bit LCG and sums of uniforms, so TypeScript regenerates
them bit for bit (test/monitoring/fixtures.ts) and only the small ones are stored.
"""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance
from sklearn import metrics


def lcg(seed, n):
    out = np.empty(n)
    s = seed
    for i in range(n):
        s = (s * 1103515245 + 12345) % 2147483648
        out[i] = s / 2147483648
    return out


def sample(spec):
    """spec: {seed, n, shape: 'uniform'|'bell', scale, shift, round?}"""
    u = lcg(spec["seed"], spec["n"] * (4 if spec["shape"] == "bell" else 1))
    if spec["shape"] == "bell":
        x = ((u[0::4] + u[1::4]) + (u[2::4] + u[3::4])) - 2.0
    else:
        x = u
    x = x * spec["scale"] + spec["shift"]
    if spec.get("round"):
        x = np.round(x * spec["round"]) / spec["round"]
    return x


def quantile_bins(ref, cur, bins=10):
    ref_sorted = np.sort(ref)
    edges = np.unique(np.quantile(ref_sorted, [k / bins for k in range(1, bins)]))
    def counts(xs):
        c = np.searchsorted(np.sort(xs), edges, side="right")
        return np.diff(np.concatenate([[0], c, [len(xs)]])).astype(float)
    return edges, counts(ref), counts(cur)


def psi(r, c, eps=1e-4):
    r = r / r.sum()
    c = c / c.sum()
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


def numerical_case(name, a_spec, b_spec):
    a, b = sample(a_spec), sample(b_spec)
    ks = stats.ks_2samp(a, b, method="auto")
    edges, rc, cc = quantile_bins(a, b)
    w = stats.wasserstein_distance(a, b)
    return {
        "name": name, "a": a_spec, "b": b_spec,
        "ks": {"statistic": float(ks.statistic), "pValue": float(ks.pvalue)},
        "wasserstein": float(w),
        "wassersteinNorm": float(w / np.std(a)),
        "edges": [float(e) for e in edges],
        "refCounts": rc.tolist(), "curCounts": cc.tolist(),
        "psi": psi(rc, cc),
        "jensenShannon": float(distance.jensenshannon(rc, cc, base=2)),
    }


def categorical_case(name, ref, cur):
    ref = np.array(ref, dtype=float)
    cur = np.array(cur, dtype=float)
    expected = ref / ref.sum() * cur.sum()
    chi = stats.chisquare(cur, expected)
    return {
        "name": name, "reference": ref.tolist(), "current": cur.tolist(),
        "chiSquared": {"statistic": float(chi.statistic), "pValue": float(chi.pvalue)},
        "jensenShannon": float(distance.jensenshannon(ref, cur, base=2)),
        "psi": psi(ref, cur),
    }


def kstwo_cases():
    pts = [(5, 0.3), (50, 0.1), (100, 0.05), (100, 0.3), (141, 0.2), (500, 0.03), (1000, 0.03),
           (1000, 0.06), (5000, 0.01), (5000, 0.03), (20000, 0.004), (90000, 0.002), (150000, 0.002), (150000, 0.005)]
    return [{"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))} for n, x in pts]


def bell(seed, n, scale=1.0, shift=0.0, round_to=None):
    s = {"seed": seed, "n": n, "shape": "bell", "scale": scale, "shift": shift}
    if round_to:
        s["round"] = round_to
    return s


def uni(seed, n, scale=1.0, shift=0.0):
    return {"seed": seed, "n": n, "shape": "uniform", "scale": scale, "shift": shift}


# The monitor acceptance test: a reference dataset of 5 numerical features
# and one categorical, traffic of 400 rows; shifted traffic moves f1, f3, f4.
FEATURES = ["f0", "f1", "f2", "f3", "f4"]
SHIFTED = {"f1": 0.8, "f3": 1.2, "f4": -0.9}


def acceptance():
    ref_rows, cur_rows = 600, 400
    ref = {f: sample(bell(100 + i, ref_rows, round_to=1000)) for i, f in enumerate(FEATURES)}
    cur = {f: sample(bell(200 + i, cur_rows, round_to=1000)) for i, f in enumerate(FEATURES)}
    shifted = {f: np.round((cur[f] + SHIFTED.get(f, 0.0)) * 1000) / 1000 for f in FEATURES}
    # The gateway feeds the model float32 tensors and captures what the model saw.
    f32 = lambda xs: xs.astype(np.float32).astype(float)
    def report(current):
        out = {}
        for f in FEATURES:
            r = stats.ks_2samp(ref[f], f32(current[f]), method="auto")
            out[f] = {"statistic": float(r.statistic), "pValue": float(r.pvalue)}
        return out
    # The model is linear: output = 0.25*f0 + 0.5 in float32 (ONNX MatMul + Add),
    # read as the positive class's probability. Labels are drawn from it, so it is
    # calibrated; feedback covers the even rows.
    score = (cur["f0"].astype(np.float32) * np.float32(0.25) + np.float32(0.5)).astype(float)
    labels = (lcg(999, cur_rows) < score).astype(int)
    half = np.arange(cur_rows) % 2 == 0
    predicted = (score[half] >= 0.5).astype(int)
    return {
        "features": FEATURES, "shifted": list(SHIFTED),
        "reference": {f: ref[f].tolist() for f in FEATURES},
        "current": {f: cur[f].tolist() for f in FEATURES},
        "shiftedCurrent": {f: shifted[f].tolist() for f in FEATURES},
        "ks": report(cur), "ksShifted": report(shifted),
        "labels": labels.tolist(),
        "accuracy": float(metrics.accuracy_score(labels[half], predicted)),
        "precision": float(metrics.precision_score(labels[half], predicted)),
        "recall": float(metrics.recall_score(labels[half], predicted)),
        "f1": float(metrics.f1_score(labels[half], predicted)),
        "rocAuc": float(metrics.roc_auc_score(labels[half], score[half])),
    }


def performance():
    """Metrics on small deterministic data: tied scores for ROC AUC, and regression errors."""
    u = lcg(31, 300)
    scores = np.round(lcg(32, 300) * 10) / 10          # many ties
    labels = (u < scores).astype(int)
    predicted = (scores >= 0.5).astype(int)
    actual = sample(bell(33, 250, scale=3.0, shift=10.0))
    guess = actual + sample(bell(34, 250, scale=0.5))
    return {
        "labels": labels.tolist(), "scores": scores.tolist(),
        "accuracy": float(metrics.accuracy_score(labels, predicted)),
        "precision": float(metrics.precision_score(labels, predicted)),
        "recall": float(metrics.recall_score(labels, predicted)),
        "f1": float(metrics.f1_score(labels, predicted)),
        "rocAuc": float(metrics.roc_auc_score(labels, scores)),
        "actual": actual.tolist(), "predicted": guess.tolist(),
        "mae": float(metrics.mean_absolute_error(actual, guess)),
        "rmse": float(np.sqrt(metrics.mean_squared_error(actual, guess))),
    }


def main():
    numerical = [
        numerical_case("exact equal sizes", bell(1, 200), bell(2, 200, shift=0.3)),
        numerical_case("exact unequal", bell(3, 300), bell(4, 170, scale=1.3)),
        numerical_case("exact ties", bell(5, 500, round_to=10), bell(6, 240, shift=0.1, round_to=10)),
        numerical_case("exact tiny p", bell(7, 2000), bell(8, 1500, shift=0.6)),
        numerical_case("exact same", bell(9, 800), bell(10, 600)),
        numerical_case("asymp large", bell(11, 30000), bell(12, 12000, shift=0.02)),
        numerical_case("asymp shifted", bell(13, 20000), bell(14, 15000, shift=0.05)),
        numerical_case("asymp small current", uni(15, 12000), uni(16, 300, shift=0.01)),
        numerical_case("asymp drifted", uni(17, 15000), uni(18, 11000, scale=1.1)),
    ]
    categorical = [
        categorical_case("three categories", [50, 30, 20], [45, 35, 20]),
        categorical_case("drifted", [500, 300, 200], [100, 300, 500]),
        categorical_case("many", [int(x) for x in np.arange(1, 41) * 7], [int(x) for x in (np.arange(40, 0, -1) * 5 + 3)]),
        categorical_case("unseen in current", [10, 20, 30, 40], [12, 0, 33, 35]),
    ]
    out = {"numerical": numerical, "categorical": categorical, "kstwo": kstwo_cases(), "acceptance": acceptance(), "performance": performance()}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
