"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package's public names are loaded from its modules on first use, so importing a package (or a light
module inside it, such as :mod:`hitrate.engine.query`) never pays for the heavy libraries its other
modules need (Ibis, pandas, scipy).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``; ``exports`` maps a public name to the
    submodule (relative to the package) that defines it."""
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        importlib.import_module(package).__dict__[name] = value
        return value

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
