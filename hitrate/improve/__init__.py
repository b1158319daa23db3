"""Raising the hit rate: the rep card, goals, interventions, loss reasons, outreach and experiments."""

from __future__ import annotations
