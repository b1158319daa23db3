"""Statistics on aggregated counts (attempts, hits, amounts): pure numpy/scipy, no engine."""

from .intervals import wilson_interval

__all__ = ["wilson_interval"]
