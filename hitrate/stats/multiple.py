"""Multiple comparisons: false discovery rate control across many groups or periods."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hitrate.stats.intervals import ArrayLike

FloatArray = npt.NDArray[np.float64]


def benjamini_hochberg(p_values: ArrayLike) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), ignoring NaN entries.

    For the m non-NaN p-values sorted ascending, ``q(i) = min over j >= i of p(j)·m/j``, capped at 1;
    rejecting where ``q < alpha`` controls the false discovery rate at ``alpha`` (Benjamini and
    Hochberg 1995). NaN entries stay NaN and do not count towards m. Equal to
    ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]`` on the non-NaN entries.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    keep = ~np.isnan(p)
    m = int(keep.sum())
    if m == 0:
        return out
    vals = p[keep]
    order = np.argsort(vals, kind="stable")
    scaled = vals[order] / (np.arange(1, m + 1) / m)
    q_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q = np.empty(m)
    q[order] = q_sorted
    out[keep] = q
    return out
