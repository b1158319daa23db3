"""Multiple comparisons: false discovery rate control across many groups or periods."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hitrate.stats.intervals import ArrayLike

FloatArray = npt.NDArray[np.float64]


def benjamini_hochberg(p_values: ArrayLike, groups: ArrayLike | None = None) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), ignoring NaN entries.

    For the m non-NaN p-values sorted ascending, ``q(i) = min over j >= i of p(j)·m/j``, capped at 1;
    rejecting where ``q < alpha`` controls the false discovery rate at ``alpha`` (Benjamini and
    Hochberg 1995). NaN entries stay NaN and do not count towards m. Equal to
    ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]`` on the non-NaN entries.

    ``groups`` (1-D labels as long as ``p_values``): each group is a family of its own, adjusted apart
    (its own m): the p-values are sorted by group then value and ranked within their group in one vectorised
    pass; only the running minimum from the end is taken group by group.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    keep = ~np.isnan(p)
    if not keep.any():
        return out
    vals = p[keep]
    labels = np.zeros(vals.shape, dtype=np.int64)
    if groups is not None:
        labels = np.unique(np.asarray(groups).ravel()[keep], return_inverse=True)[1].ravel()
    order = np.lexsort((vals, labels))
    g = labels[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    rank = np.arange(len(g)) - np.repeat(starts, sizes) + 1
    scaled = vals[order] / (rank / np.repeat(sizes, sizes))
    q_sorted = np.empty(len(vals))
    for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        part = scaled[start : start + size]
        q_sorted[start : start + size] = np.minimum(np.minimum.accumulate(part[::-1])[::-1], 1.0)
    q = np.empty(len(vals))
    q[order] = q_sorted
    out[keep] = q
    return out.reshape(np.shape(p_values))
