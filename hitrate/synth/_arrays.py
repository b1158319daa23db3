"""Vectorised helpers of the generator: categorical draws, timestamps, ids and text columns as Arrow-backed
pandas arrays, built without a Python loop over rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

DAY = 86_400  # seconds
US = 1_000_000  # microseconds per second
NAT = np.iinfo(np.int64).min
STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default ``str`` dtype


def strings(
    categories: tuple[str, ...] | list[str], codes: np.ndarray, valid: np.ndarray | None = None
) -> ExtensionArray:
    """A pandas ``str`` array holding ``categories[codes]`` (missing where ``valid`` is False)."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    taken = pa.array(list(categories), pa.large_string()).take(pa.array(codes, mask=mask))
    out: ExtensionArray = pd.array(taken, dtype=STR_DTYPE)
    return out


def taken(values: ExtensionArray, rows: np.ndarray) -> ExtensionArray:
    """A pandas ``str`` array of ``values`` at ``rows`` (an id repeated for each of its rows)."""
    out: ExtensionArray = pd.array(pa.array(values).take(pa.array(rows)), dtype=STR_DTYPE)
    return out


def ids(prefix: str, n: int, width: int) -> ExtensionArray:
    """``prefix`` followed by the zero-padded numbers 1..n, built as one byte buffer."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    size = head.size + width
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : head.size] = head
    number = np.arange(1, n + 1, dtype=np.int64)
    for k in range(width):
        buf[:, size - 1 - k] = number % 10 + 48
        number //= 10
    offsets = np.arange(0, n * size + 1, size, dtype=np.int64)
    arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    out: ExtensionArray = pd.array(arr, dtype=STR_DTYPE)
    return out


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Epoch seconds -> ``datetime64[us]`` (NaT where ``valid`` is False)."""
    us = seconds.astype(np.int64) * US
    if valid is not None:
        us[~valid] = NAT
    return us.view("datetime64[us]")


def pick(u: np.ndarray, probs: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """Categorical draws by inverse CDF: row ``i`` uses ``probs[group[i]]`` (or ``probs``)."""
    cum = np.cumsum(probs, axis=-1)
    cum = cum / cum[..., -1:]
    out = np.zeros(u.shape, dtype=np.int8)
    for j in range(cum.shape[-1] - 1):
        threshold = cum[..., j] if group is None else cum[group, j].astype(u.dtype)
        out += u >= threshold
    return out


def month(seconds: np.ndarray) -> np.ndarray:
    """Calendar month (1..12) of epoch seconds."""
    return (seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8)


def empty(columns: dict[str, str]) -> pd.DataFrame:
    """A table with no rows: ``columns`` maps each name to ``"str"`` or ``"ts"`` (a timestamp)."""
    return pd.DataFrame(
        {c: pd.array([], dtype=STR_DTYPE if k == "str" else "datetime64[us]") for c, k in columns.items()}
    )


def to_seconds(when: pd.Timestamp | str) -> int:
    """Epoch seconds of a timestamp (or of the date or date-time text it is given as)."""
    return int(pd.Timestamp(when).to_datetime64().astype("datetime64[s]").astype(np.int64))
