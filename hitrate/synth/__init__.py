"""Realistic synthetic pipelines with known truth (``generator``), and the demo store built from one
(``demo``).

:func:`generate` (in ``generator``, with the model in plain words) draws the organisation (``reps``), the
deals and their paths through the stages (``deals``), the win probabilities (``truth``), the stage history
(``history``) and the activities (``outreach``), all from one seeded generator; ``model`` holds the fixed part
of the truth and the :class:`SynthTruth` / :class:`SynthData` it returns.
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
