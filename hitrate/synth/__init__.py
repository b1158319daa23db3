"""Realistic synthetic pipelines with known truth (``generator``), and the demo store built from one
(``demo``).
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "generate": "generator",
        "SynthData": "generator",
        "SynthTruth": "generator",
        "build_demo": "demo",
        "load_synth": "demo",
    },
)
