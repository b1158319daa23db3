"""A digest written out: the view (every line translated and formatted once, :func:`view`), then an HTML mail
(:func:`html`, a Jinja2 template with inline styles, as mail clients need), its plain-text part (:func:`plain`)
and the JSON that Slack's and Teams' incoming webhooks accept (:func:`webhook_payload`: ``{"text": ...}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hitrate.i18n import format as fmt
from hitrate.i18n import text

if TYPE_CHECKING:
    from hitrate.digest.content import Change, Digest, Rate, Window


def _t(key: str, lang: str, **params: Any) -> str:
    return text(f"digest.{key}", lang, **params)


def _scope(digest: Digest) -> str:
    user, lang = digest.user, digest.lang
    if user.role == "manager":
        return _t("scope_teams", lang, teams=", ".join(user.teams))
    if user.role == "rep":
        return _t("scope_rep", lang, rep=user.rep)
    return _t("scope_all", lang)


def _rate_cells(rate: Rate, lang: str) -> list[str]:
    if not rate.attempts:
        return [_t("no_closed", lang), "", ""]
    return [
        fmt.percent(rate.rate, lang),
        _t("won_of", lang, hits=fmt.integer(rate.hits, lang), attempts=fmt.integer(rate.attempts, lang)),
        fmt.interval(rate.low, rate.high, lang),
    ]


def _window_rows(w: Window, lang: str) -> list[list[str]]:
    so_far = _t("so_far", lang, days=w.days_so_far, of=w.days_in_all)
    dates = [(w.current.start, w.current.end), (w.previous.start, w.previous.end), (w.last_year.start, w.last_year.end)]
    labels = [_t(f"this_{w.span}", lang) + f" ({so_far})", _t(f"last_{w.span}", lang), _t(f"{w.span}_last_year", lang)]
    rows = []
    for label, (start, end), rate in zip(labels, dates, (w.current, w.previous, w.last_year), strict=True):
        rows.append([label, f"{fmt.date(start, lang)} – {fmt.date(end, lang)}", *_rate_cells(rate, lang)])
    return rows


def _change_line(c: Change, lang: str) -> str:
    d = c.difference
    who = c.subject or _t("everyone", lang)
    key = "change_up" if d.difference > 0 else "change_down"
    return _t(
        key,
        lang,
        who=who,
        span=_t(f"this_{c.span}", lang),
        rate=fmt.percent(d.rate_a, lang),
        against=_t(f"{'last' if c.against == 'previous' else 'same'}_{c.span}_of", lang),
        before=fmt.percent(d.rate_b, lang),
        points=fmt.points(abs(d.difference), lang),
    )


def _goal_line(g: dict[str, Any], lang: str) -> str:
    return _t(
        "goal_line",
        lang,
        field=g["field"],
        value=g["value"],
        target=fmt.percent(g["target"], lang),
        end=fmt.date(g["end"], lang),
        rate=fmt.percent(g.get("hit_rate"), lang),
        probability=fmt.percent(g["probability"], lang, 0),
    )


def _lead_line(lead: dict[str, Any], lang: str) -> str:
    from hitrate.scoring.reasons import reasons_text

    who = ", ".join(str(lead[f]) for f in ("rep", "team") if lead.get(f))
    why = reasons_text(lead.get("up") or [])
    return _t(
        "lead_line",
        lang,
        id=lead["id"],
        who=who,
        score=fmt.percent(lead["probability"], lang, 0),
        band=lead["band"],
        why=why or _t("no_reasons", lang),
    )


def _forecast_line(f: dict[str, Any], lang: str) -> str:
    return _t(
        "forecast_line",
        lang,
        end=fmt.date(f["end"], lang),
        wins=fmt.number(f["expected_wins"], lang, 0),
        low=fmt.integer(f["wins_low"], lang),
        high=fmt.integer(f["wins_high"], lang),
        won=fmt.integer(f["won_so_far"], lang),
        open=fmt.integer(f["open_deals"], lang),
    )


def view(digest: Digest) -> dict[str, Any]:
    """Every line of the digest, translated and formatted: what the HTML and plain-text faces both show."""
    lang = digest.lang
    headline = digest.headline()
    params = {
        k: (fmt.percent(v, lang) if k in ("rate", "before") else fmt.integer(v, lang))
        for k, v in headline.params.items()
    }
    return {
        "lang": lang,
        "subject": _t("subject", lang, week=digest.period, scope=_scope(digest)),
        "title": _t("title", lang),
        "greeting": _t("greeting", lang, name=digest.user.name),
        "headline": text(headline.key, lang, **params),
        "scope": _scope(digest),
        "as_of": _t("as_of", lang, date=fmt.date(digest.as_of, lang)),
        "rates_title": _t("rates_title", lang),
        "rates_headers": [_t(k, lang) for k in ("h_span", "h_dates", "h_rate", "h_won", "h_interval")],
        "rates": [row for w in digest.windows for row in _window_rows(w, lang)],
        "changes_title": _t("changes_title", lang),
        "changes": [_change_line(c, lang) for c in digest.changes],
        "no_changes": _t("no_changes", lang),
        "goals_title": _t("goals_title", lang),
        "goals": [_goal_line(g, lang) for g in digest.goals],
        "no_goals": _t("no_goals", lang),
        "leads_title": _t("leads_title", lang),
        "leads": [_lead_line(lead, lang) for lead in digest.leads],
        "no_leads": _t("no_leads", lang),
        "forecast_title": _t("forecast_title", lang),
        "forecast": _forecast_line(digest.forecast, lang) if digest.forecast else _t("no_forecast", lang),
        "link": _t("link", lang, url=digest.dashboard_url) if digest.dashboard_url else "",
        "url": digest.dashboard_url or "",
        "link_label": _t("link_label", lang),
        "method": _t("method", lang, fdr=fmt.percent(0.05, lang, 0)),
    }


def html(digest: Digest, seen: dict[str, Any] | None = None) -> str:
    """The digest as an HTML mail (one self-contained document, inline styles, no scripts or remote images);
    ``seen`` is its :func:`view` when the caller has it already."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hitrate.digest", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("digest.html").render(**(seen or view(digest)))


def plain(digest: Digest, seen: dict[str, Any] | None = None) -> str:
    """The digest as plain text: the mail's text part, and the webhook's message (``seen``: as :func:`html`)."""
    v = seen or view(digest)
    lines = [v["greeting"], "", v["headline"], v["scope"] + " · " + v["as_of"], "", v["rates_title"]]
    lines += [f"- {r[0]}: {r[2]}" + (f" ({r[3]}; {r[4]})" if r[3] else "") for r in v["rates"]]
    for title, items, none in (
        ("changes_title", v["changes"], "no_changes"),
        ("goals_title", v["goals"], "no_goals"),
        ("leads_title", v["leads"], "no_leads"),
    ):
        lines += ["", v[title], *(f"- {item}" for item in items or [v[none]])]
    lines += ["", v["forecast_title"], v["forecast"]]
    if v["link"]:
        lines += ["", v["link"]]
    lines += ["", v["method"]]
    return "\n".join(lines) + "\n"


def webhook_payload(digest: Digest) -> dict[str, Any]:
    """What a Slack or Teams incoming webhook accepts: ``{"text": ...}``, the subject in bold, then the text."""
    v = view(digest)
    return {"text": f"*{v['subject']}*\n\n{plain(digest, v)}"}
