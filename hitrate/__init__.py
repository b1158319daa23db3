"""hitrate: measure and raise hit rate."""

__version__ = "0.1.0"
