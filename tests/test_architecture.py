"""The layout's rules, read from the imports (docs/architecture.md, "The map").

Packages sit in layers; a package may import only the packages its row allows (every import counts: at
the top of a module, inside a function, under ``TYPE_CHECKING``). The faces (the ``hitrate`` package
itself, ``cli``, ``web``) sit on top; nothing in the library imports ``cli`` or ``web``. ``stats`` is pure
numpy/scipy: no engine, no Ibis. ``engine`` knows nothing of ``stats``. Neither packages nor modules
import each other in a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hitrate"

BASE = {"errors", "i18n", "_lazy", "_progress", "_version"}
LIBRARY = {
    "analysis", "domains", "engine", "improve", "ingest", "report", "scoring", "spec", "stats", "store", "synth", "sync"
}  # fmt: skip
#: What each part of hitrate may import from hitrate (besides itself).
ALLOWED: dict[str, set[str]] = {
    "i18n": set(),
    "_lazy": set(),
    "_progress": set(),
    "_version": set(),
    "errors": {"i18n"},
    "stats": BASE,
    "spec": BASE,
    "store": BASE | {"spec"},
    "report": BASE,
    "engine": BASE | {"store", "spec"},
    "ingest": BASE | {"store", "spec", "report"},
    "synth": BASE | {"store", "spec"},
    "scoring": BASE | {"engine", "ingest", "store", "spec", "stats", "report"},
    "analysis": BASE | {"engine", "store", "spec", "stats", "scoring", "report"},
    "domains": BASE | {"analysis", "engine", "ingest", "store", "spec", "stats", "report"},
    "improve": BASE | {"analysis", "engine", "scoring", "store", "spec", "stats", "report"},
    # Live CRM sync: the import path, the store, and the lead scores it refreshes.
    "sync": BASE | {"engine", "ingest", "scoring", "store", "spec", "report"},
    # The weekly digest composes rates, comparisons, goals, the forecast and stored lead scores for one user.
    "digest": BASE | {"analysis", "engine", "improve", "scoring", "store", "spec", "stats", "report"},
    # The store's HTML report composes the analyses, the forecast (improve) and the doctor.
    "store_report": BASE | {"analysis", "engine", "improve", "report", "spec"},
    # The faces. The command line may start the web server; the web never imports the command line.
    "": BASE
    | {"analysis", "domains", "engine", "improve", "ingest", "report", "scoring", "spec", "stats", "store", "synth"}
    | {"store_report", "sync"},
    "web": BASE
    | {
        "",
        "analysis",
        "domains",
        "engine",
        "improve",
        "ingest",
        "report",
        "scoring",
        "spec",
        "stats",
        "store",
        "synth",
        "sync",
        "store_report",
    },
    "cli": BASE
    | {"", "analysis", "domains", "engine", "improve", "ingest", "report", "scoring", "spec", "stats", "store", "synth"}
    | {"sync", "digest"}
    | {"web", "store_report"},
}
#: Third-party packages a part of the library must not import.
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "stats": {"ibis", "duckdb", "pyspark"},
    "i18n": {"numpy", "pandas", "ibis", "duckdb"},
    "errors": {"numpy", "pandas", "ibis", "duckdb"},
}
FACE_ONLY = {"typer", "rich", "fastapi", "uvicorn", "starlette"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _absolute(module: str, path: Path, level: int, name: str | None) -> str:
    if not level:
        return name or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(module: str, *, top_level_only: bool = False) -> list[str]:
    """Every module ``module`` imports (names imported from a package count as its submodules when they are)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, path, node.level, node.module)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append(sub if sub in MODULES else target)
    return found


def part_of(module: str) -> str:
    """``hitrate.analysis.rates`` -> ``analysis``; ``hitrate.errors`` -> ``errors``; ``hitrate`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module: str) -> None:
    part = part_of(module)
    assert part in ALLOWED, f"{module}: the part {part!r} has no row in ALLOWED (and in docs/architecture.md)"
    bad = sorted(
        {
            f"{imp} ({part_of(imp)!r})"
            for imp in imports_of(module)
            if imp.startswith("hitrate") and part_of(imp) != part and part_of(imp) not in ALLOWED[part]
        }
    )
    assert not bad, f"{module} ({part!r}) may not import: {', '.join(bad)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_third_party_imports_stay_in_their_layer(module: str) -> None:
    part = part_of(module)
    roots = {imp.split(".")[0] for imp in imports_of(module)}
    forbidden = FORBIDDEN_THIRD_PARTY.get(part, set())
    if part not in ("cli", "web"):
        forbidden = forbidden | FACE_ONLY
    assert not roots & forbidden, f"{module} imports {sorted(roots & forbidden)}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Elementary cycles found by depth-first search (one per strongly connected component is enough)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_circular_imports_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for imp in imports_of(module):
            if imp.startswith("hitrate") and part_of(imp) != part_of(module):
                graph[part_of(module)].add(part_of(imp))
    assert _cycles(graph) == []


def test_no_circular_imports_between_modules() -> None:
    """At import time (top-level statements): a circle here breaks ``import`` depending on which module comes first."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for imp in imports_of(module, top_level_only=True):
            if imp in MODULES and imp != module and not module.startswith(imp + "."):
                graph[module].add(imp)
    assert _cycles(graph) == []


def test_no_module_is_over_600_lines() -> None:
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 650}
    assert not long, f"modules over about 600 lines: {long}"


def test_the_map_in_the_docs_names_every_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted({part_of(m) for m in MODULES if part_of(m) and not part_of(m).startswith("_")})
    missing = [p for p in packages if f"`{p}/`" not in text and f"`{p}.py`" not in text]
    assert not missing, f"docs/architecture.md does not place: {missing}"
