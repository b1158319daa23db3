"""``hitrate score``: lead scoring (train, evaluate, explain, predict) on lead files or the store's leads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from hitrate.cli.cells import integer, number, percent
from hitrate.cli.options import (
    DbOpt,
    EngineOpt,
    Format,
    FormatOpt,
    OutAliasOpt,
    argument,
    one_of,
    open_store,
    option,
    shared_options,
    source,
)
from hitrate.cli.output import (
    emit,
    headers,
    note,
    progress_bar,
    say,
    table,
    text,
    unwritable,
    user_errors,
    write_xlsx,
)
from hitrate.cli.sync import Crm

PushValue = Enum("PushValue", [("text", "text"), ("score", "score"), ("band", "band")], type=str)
score_app = typer.Typer(help=text("cli_help.score.help"), no_args_is_help=True)

ScoreFiles = Annotated[list[Path] | None, argument("cli_help.score.files", show_default=False)]
ScoreDefsOpt = Annotated[
    Path | None,
    option("--definitions", envvar="HITRATE_DEFINITIONS", show_default=False, help="cli_help.score.definitions"),
]
ModelOpt = Annotated[Path, option("--model", help="cli_help.score.model", show_default=False)]
PresetOpt = Annotated[str | None, option(help="cli_help.score.preset", show_default=False)]
MapOpt = Annotated[list[str] | None, option("--map", help="cli_help.score.map", show_default=False)]
WonOpt = Annotated[list[str] | None, option(help="cli_help.option.won", show_default=False)]
LostOpt = Annotated[list[str] | None, option(help="cli_help.option.lost", show_default=False)]


@contextlib.contextmanager
def leads_of(
    files: list[Path] | None,
    preset: str | None,
    map_: list[str] | None,
    won: list[str] | None,
    lost: list[str] | None,
    db: Path | None,
    engine: str | None,
    definitions: Path | None,
) -> Iterator[tuple[Any, Any]]:
    """The leads a score command works on, and the definitions: the FILES read as import reads them, or the store's
    leads."""
    from hitrate.spec.model import default_definitions, load_definitions

    loaded = load_definitions(definitions) if definitions is not None else None
    if files:
        from hitrate.ingest import parse_map_flags
        from hitrate.scoring.training import read_leads

        leads = read_leads(files, preset=preset, mapping=parse_map_flags(map_), won=won, lost=lost)
        yield leads, loaded or default_definitions()
        return
    if preset or map_ or won or lost:
        from hitrate.errors import UserInputError

        raise UserInputError("cli.score.file_options_without_files")
    from hitrate.analysis.rates import resolve_definitions
    from hitrate.scoring.store_leads import read_store_leads

    with source(db, engine, None) as (data, _):
        defs = resolve_definitions(data, loaded, None)
        leads = read_store_leads(data, defs)
    yield leads, defs


#: A command that scores leads: it takes the lead files and how to read them (after its required options),
#: ``--db``, ``--engine`` and ``--definitions`` (after the others), and is called with the leads and the
#: definitions as its first two arguments.
scores = shared_options(
    leads_of,
    front=[("files", ScoreFiles), ("preset", PresetOpt), ("map_", MapOpt), ("won", WonOpt), ("lost", LostOpt)],
    back=[("db", DbOpt), ("engine", EngineOpt), ("definitions", ScoreDefsOpt)],
)


def metrics(m: dict[str, Any], keys: tuple[str, ...] = ("auc", "brier", "log_loss")) -> dict[str, str]:
    """AUC, Brier score and log loss as the messages show them."""
    return {k: number(m[k], 3, group=False) for k in keys}


@score_app.command("train", help=text("cli_help.score.train.help"))
@scores
def score_train(
    leads: Any,
    defs: Any,
    model: ModelOpt,
    exclude: Annotated[list[str] | None, option(help="cli_help.score.train.exclude", show_default=False)] = None,
    allow: Annotated[list[str] | None, option(help="cli_help.score.train.allow", show_default=False)] = None,
    strict: Annotated[bool, option("--strict", help="scoring_check.strict_help")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.scoring.training import train

    post = [c for c in defs.post_outcome if c in leads.features.columns]
    with progress_bar(text("cli.progress.training")) as progress:
        result = train(
            leads,
            model,
            exclude=exclude or [],
            allow=allow or [],
            post_outcome=post,
            definitions_hash=defs.hash,
            strict=strict,
            progress=progress,
        )
    emit(result, fmt, training_report, warnings=result.checks)


def training_report(result: Any) -> list[str]:
    """Held-out metrics, the baselines, the columns left out and why, where the model went."""
    lines = [
        text("cli.score.held_out", method=say(result.split["method"]), test=integer(result.split["test"]),
             **metrics(result.metrics)),
    ]  # fmt: skip
    for name, b in result.baselines.items():
        lines.append(text("cli.score.baseline", name=name, **metrics(b, ("auc", "brier"))))
    for e in result.excluded:
        lines.append(text("cli.score.excluded", feature=e["feature"], reason=say(e["reason"])))
    for w in result.warnings:
        lines.append(f"[yellow]{text('cli.score.warning')}[/] {w['feature']}: {say(w['reason'])}")
    lines.append(text("cli.score.model_written", path=str(result.model_path)))
    return lines


@score_app.command("evaluate", help=text("cli_help.score.evaluate.help"))
@scores
def score_evaluate(
    leads: Any,
    defs: Any,
    model: ModelOpt,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.scoring.training import evaluate_model

    result = evaluate_model(leads, model)
    emit(result, fmt, evaluation, data=result, warnings=list(result.get("warnings", [])))


def evaluation(result: dict[str, Any]) -> list[Any]:
    """The metrics on decided leads, then the hit rate if reps work only the top k% of leads."""
    heads = ("cli.score.top", "cli.score.leads", "cli.col.hits", "cli.col.hit_rate", "cli.score.lift")
    t = table(text("cli.score.top_title"), headers(*heads), "r" * len(heads))
    for row in result["top"]:
        t.add_row(
            text("cli.score.top_share", share=row["share"]),
            integer(row["leads"]),
            integer(row["hits"]),
            percent(row["hit_rate"]),
            number(row["lift"], 2, group=False),
        )
    return [text("cli.score.evaluated", leads=integer(result["leads"]), **metrics(result)), t]


@score_app.command("explain", help=text("cli_help.score.explain.help"))
@scores
def score_explain(
    leads: Any,
    defs: Any,
    model: ModelOpt,
    top: Annotated[int, option(help="cli_help.score.explain.top")] = 3,
    limit: Annotated[int, option(help="cli_help.score.explain.limit")] = 20,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.scoring.training import explain

    result = explain(leads, model, top=top)
    emit(result, fmt, lambda r: explanation(r, limit), data=result)


def explanation(result: dict[str, Any], limit: int) -> list[Any]:
    """The model's global importance, then the top factors up and down for the first leads."""
    g = table(text("cli.score.importance_title"), headers("cli.score.feature", "cli.score.importance"), "lr")
    for name, value in sorted(result["importance"].items(), key=lambda kv: -kv[1])[:15]:
        g.add_row(name, number(value, 3, group=False))
    heads = headers("cli.score.id", "cli.score.probability", "cli.score.up", "cli.score.down")
    t = table(text("cli.score.factors_title", n=min(limit, len(result["leads"]))), heads, overflow="fold")

    def factors(items: list[dict[str, Any]]) -> str:
        return "; ".join(f"{f['feature']}={f['value']} ({percent(f['effect'], sign=True)})" for f in items)

    for row in result["leads"][:limit]:
        t.add_row(str(row["id"]), percent(row["probability"]), factors(row["up"]), factors(row["down"]))
    return [g, t]


ScoresFormat = Enum(
    "ScoresFormat", [("csv", "csv"), ("json", "json"), ("parquet", "parquet"), ("xlsx", "xlsx")], type=str
)


@score_app.command("predict", help=text("cli_help.score.predict.help"))
@scores
def score_predict(
    leads: Any,
    defs: Any,
    model: ModelOpt,
    output: Annotated[Path | None, option("--output", help="cli_help.score.predict.out", show_default=False)] = None,
    fmt: Annotated[
        ScoresFormat | None, option("--format", help="cli_help.score.predict.format", show_default=False)
    ] = None,
    out: OutAliasOpt = None,
    db: Path | None = None,
    engine: str | None = None,
) -> None:
    from hitrate.errors import UserInputError
    from hitrate.scoring.results import ScoresResult, write_scores
    from hitrate.scoring.training import predict, save_scores
    from hitrate.store.backends import is_embedded

    path = one_of(output, out, "--out")
    if path is None:
        raise UserInputError("cli.output_needed")
    result = ScoresResult(predict(leads, model), str(model), out=str(path))
    if fmt is ScoresFormat.xlsx or (fmt is None and path.suffix.lower() == ".xlsx"):
        write_xlsx(result, path, definitions=defs)
    else:
        try:
            write_scores(result.scores, path, kind=fmt.value if fmt is not None else None)
        except OSError as exc:
            raise unwritable(path, exc) from None
    # Scores are kept in the embedded store: the --engine's when it is one, else --db.
    with open_store(db, engine=engine if is_embedded(engine) else None, create=True) as store:
        save_scores(store, result.scores, model)
        where = store.path
    note("cli.score.predicted", n=len(result), out=str(path), store=str(where))


@score_app.command("push", help=text("cli_help.score.push.help"))
@user_errors
def score_push(
    crm: Annotated[Crm, argument("cli_help.score.push.crm", show_default=False)],
    prop: Annotated[str, option("--property", help="cli_help.score.push.property", show_default=False)],
    apply: Annotated[bool, option("--apply", help="cli_help.score.push.apply")] = False,
    value: Annotated[PushValue, option("--value", help="cli_help.score.push.value")] = PushValue.text,
    api_base: Annotated[str | None, option("--api-base", help="cli_help.sync.api_base", show_default=False)] = None,
    credentials: Annotated[
        Path | None, option("--credentials", help="cli_help.sync.credentials", show_default=False)
    ] = None,
    timeout: Annotated[float, option("--timeout", help="cli_help.sync.timeout", min=0.001)] = 60.0,
    retries: Annotated[int, option("--retries", help="cli_help.sync.retries", min=0)] = 4,
    backoff: Annotated[float, option("--backoff", help="cli_help.sync.backoff", min=0.0)] = 1.0,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
) -> None:
    from hitrate.sync.client import RetryPolicy
    from hitrate.sync.push import push

    retry = RetryPolicy(attempts=retries + 1, backoff=backoff, max_wait=max(60.0, backoff), timeout=timeout)
    with open_store(db) as store:
        report = push(
            store,
            crm.value,
            prop,
            apply=apply,
            value=value.value,
            credentials_file=credentials,
            api_base=api_base,
            retry=retry,
        )
    emit(report, fmt, push_table)
    if not report.ok:
        raise typer.Exit(1)


def push_table(report: Any) -> list[Any]:
    """Each record that changes, would change, failed or is gone (id, old value, new value, result), then the
    counts."""
    from hitrate.sync.client import LABELS

    label = LABELS[report.crm]
    if not report.records:
        return [text("push.none", crm=label, name=report.crm)]
    title = text("push.title_applied" if report.applied else "push.title_dry", crm=label, property=report.prop)
    t = table(title, headers("push.id", "push.old", "push.new", "push.result"), "llll", overflow="fold")
    for r in report.records:
        if r.status == "unchanged":
            continue
        result = text("push.failed", error=say(r.error)) if r.status == "failed" else text(f"push.{r.status}")
        t.add_row(r.id, r.old or "", r.new, result)
    return [t, text("push.summary", **report.counts, batches=report.batches, requests=report.requests)]


__all__ = ["score_app"]
