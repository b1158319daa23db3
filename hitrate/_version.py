"""The version of hitrate (kept with pyproject.toml's)."""

__version__ = "0.1.0"
