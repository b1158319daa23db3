"""Hit rate beyond sales: betting strategies and bet logs, slot machines."""

from __future__ import annotations
