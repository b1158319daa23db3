"""The analyses: one engine query each, statistics on its small result."""

from __future__ import annotations
