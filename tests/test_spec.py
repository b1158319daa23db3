"""Definitions are data: validation, hashing, overrides, the store's history."""

from __future__ import annotations

import pytest

from hitrate.engine.definitions import definitions_history, definitions_in_force, use_definitions
from hitrate.errors import DefinitionsError
from hitrate.spec.model import DEFAULT_YAML, Definitions, default_definitions, load_definitions, parse_definitions


def test_default_definitions_are_the_documented_file():
    d = default_definitions()
    assert (d.basis, d.denominator, d.effective_period_date) == ("closed", "opportunities", "closed_at")
    assert parse_definitions(DEFAULT_YAML, source="x").hash == d.hash


def test_hash_ignores_comments_name_and_description_but_not_meaning():
    base = default_definitions()
    renamed = parse_definitions(DEFAULT_YAML.replace("name: default", "name: other") + "\n# a comment\n", source="x")
    assert renamed.hash == base.hash
    qualified = parse_definitions(
        DEFAULT_YAML.replace("opportunity: []", "opportunity: [{field: stage, op: ne, value: Prospecting}]"),
        source="x",
    )
    assert qualified.hash != base.hash


def test_overrides_change_the_hash_and_resolve_the_period_date():
    base = default_definitions()
    cohort = base.with_overrides(basis="cohort")
    assert cohort.hash != base.hash
    assert cohort.effective_period_date == "created_at"
    assert base.with_overrides(basis="closed") is base
    explicit = parse_definitions("basis: cohort\nperiod_date: created_at\n", source="x")
    assert explicit.hash == cohort.hash  # the effective definitions are the same


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("basis: clsoed", "basis", "'closed' or 'cohort'"),
        ("denominator: deals", "", "'denominator' must be one of"),
        ("colour: red", "colour", "unknown key"),
        ("won: [{field: stage, op: in, value: Won}]", "won.0", "non-empty list 'values'"),
        ("won: [{field: stage, op: eq}]", "won.0", "takes one 'value'"),
        ("won: [{op: eq, value: x}]", "won.0", "needs 'field'"),
        ("won: [{field: stage, op: like, value: x}]", "won.0.op", "Input should be"),
        ("won: [{any: []}]", "won.0", "at least one condition"),
        ("basis: [", "line 1", "not valid YAML"),
        ("- a\n- b", "", "expected a mapping"),
    ],
)
def test_invalid_definitions_name_the_key(text, key, message):
    with pytest.raises(DefinitionsError) as info:
        parse_definitions(text, source="defs.yaml")
    assert "defs.yaml" in str(info.value)
    # A YAML syntax error's line and column lead its message (so they read in the message's language).
    assert any((k or str(m)).startswith(key) and message in m for k, m in info.value.problems), info.value.problems


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DefinitionsError, match="cannot read the file"):
        load_definitions(tmp_path / "nope.yaml")


def test_definitions_in_force_and_history(store, tmp_path):
    assert definitions_in_force(store).hash == default_definitions().hash
    assert definitions_history(store) == []
    a = tmp_path / "a.yaml"
    a.write_text("basis: cohort\n")
    b = tmp_path / "b.yaml"
    b.write_text("opportunity: [{field: stage, op: not_in, values: [Spam]}]\n")
    da = use_definitions(store, a)
    use_definitions(store, a)  # putting the same version in force again is not a new entry
    db = use_definitions(store, b)
    assert definitions_in_force(store) == db
    use_definitions(store, a)
    hist = definitions_history(store)
    assert [v.hash for v in hist] == [da.hash, db.hash, da.hash]
    assert [v.in_force for v in hist] == [False, False, True]
    assert isinstance(definitions_in_force(store), Definitions)


def test_empty_won_or_lost_is_refused():
    for text in ("lost: []", "won: []"):
        with pytest.raises(DefinitionsError, match="each need at least one condition"):
            parse_definitions(text, source="x.yaml")


def test_definitions_that_do_not_fit_the_data_are_never_put_in_force(maven_store, tmp_path):
    from hitrate.errors import UserInputError

    bad = tmp_path / "bad.yaml"
    bad.write_text("opportunity: [{field: amount, op: gt, value: lots}]\n")
    with pytest.raises(UserInputError, match="'lots' is not a number"):
        use_definitions(maven_store, bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("opportunity: [{field: colour, op: eq, value: red}]\n")
    with pytest.raises(UserInputError, match="unknown field 'colour'"):
        use_definitions(maven_store, unknown)
    assert definitions_in_force(maven_store).hash == default_definitions().hash
