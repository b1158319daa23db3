"""Slot inputs as analysts meet them: logs without a wager column, free spins, bad cells, identical spins,
machines by column, reel files with typos, symbol sets and wilds, PAR tables that cannot be a real machine.

Expected numbers are computed in each test from the rows it writes (numpy, scipy), not by hitrate.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats as sps
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.domains.slots import load_machine, machine_from_dict, par_from_table, slots_reels, slots_spins
from hitrate.errors import InputFileError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_log_without_a_wager_column_is_one_credit_per_spin(tmp_path):
    log = write(tmp_path / "spins.csv", "win\n0\n2\n0\n0\n")
    stats = slots_spins(log)
    assert (stats.outcomes, stats.hits, stats.wager) == (4, 1, 1.0)
    assert stats.payback == pytest.approx(2 / 4)


def test_free_spins_are_spins_and_stay_out_of_the_wagers(tmp_path):
    """wager 1, 1, 0, 1 and win 0, 2, 5, 0: 4 spins, 2 hits, payback (2 + 5) / 3; volatility over paid spins."""
    log = write(tmp_path / "spins.csv", "wager,win\n1,0\n1,2\n0,5\n1,0\n")
    stats = slots_spins(log)
    assert (stats.outcomes, stats.hits, stats.extra["free_spins"]) == (4, 2, 1)
    assert stats.payback == pytest.approx(7 / 3)
    assert stats.volatility == pytest.approx(np.std([0, 2, 0]))


def test_bad_cells_refuse_the_file_naming_the_line(tmp_path):
    bad = write(tmp_path / "bad.csv", "wager,win\n1,0\n1,abc\n1,x\n")
    with pytest.raises(InputFileError, match=r"row 3, column 'win': 'abc' is not a number \(2 rows like this\)"):
        slots_spins(bad)
    negative = write(tmp_path / "neg.csv", "wager,win\n1,0\n-1,0\n")
    with pytest.raises(InputFileError, match=r"row 3, column 'wager': '-1' is below zero"):
        slots_spins(negative)
    out = CliRunner().invoke(app, ["slots", "spins", str(bad)])
    assert out.exit_code == 2 and "Traceback" not in out.output and "row 3" in out.stderr


def test_identical_spins_are_distinct_and_small_logs_get_no_payback_interval(tmp_path):
    log = write(tmp_path / "same.csv", "wager,win\n" + "1,0\n" * 49 + "1,3\n")
    stats = slots_spins(log)
    assert (stats.outcomes, stats.hits) == (50, 1)
    assert stats.extra["payback_ci"] is None and "below 100 spins" in str(stats.warnings[0])


def test_the_payback_interval_is_the_ratio_estimators(tmp_path):
    """Reference: R = Σwin/Σwager; se = √(Σ(win − R·wager)²/(n(n−1))) / mean(wager), and with a constant wager
    the standard error of the mean of win/wager (scipy.stats.sem)."""
    rng = np.random.default_rng(3)
    n = 400
    wager = rng.choice([1.0, 2.0, 5.0], size=n)
    win = wager * rng.choice([0, 0, 0, 1, 2, 10], size=n)
    log = tmp_path / "spins.csv"
    np.savetxt(log, np.column_stack([wager, win]), delimiter=",", header="wager,win", comments="")
    stats = slots_spins(log)
    r = win.sum() / wager.sum()
    se = np.sqrt(((win - r * wager) ** 2).sum() / (n * (n - 1))) / wager.mean()
    z = sps.norm.ppf(0.975)
    assert stats.payback == pytest.approx(r)
    assert stats.extra["payback_ci"] == pytest.approx([r - z * se, r + z * se], rel=1e-9)
    flat = tmp_path / "flat.csv"
    np.savetxt(flat, np.column_stack([np.ones(n), win / wager]), delimiter=",", header="wager,win", comments="")
    low, high = slots_spins(flat).extra["payback_ci"]
    assert (high - low) / 2 == pytest.approx(z * sps.sem(win / wager), rel=1e-9)


def test_by_machine_equals_each_machine_alone(tmp_path):
    rows = [("A", 1, 0), ("A", 1, 2), ("B", 2, 0), ("A", 0, 5), ("B", 2, 6), ("B", 1, 0)]
    log = write(tmp_path / "all.csv", "machine,wager,win\n" + "".join(f"{m},{w},{x}\n" for m, w, x in rows))
    stats = slots_spins(log, by=["machine"])
    groups = {g["machine"]: g for g in stats.extra["groups"]}
    for machine in ("A", "B"):
        own = [(w, x) for m, w, x in rows if m == machine]
        alone = slots_spins(write(tmp_path / f"{machine}.csv", "wager,win\n" + "".join(f"{w},{x}\n" for w, x in own)))
        assert groups[machine]["payback"] == pytest.approx(alone.payback)
        assert groups[machine]["hit_frequency"] == pytest.approx(alone.hit_frequency)
        assert groups[machine]["spins"] == alone.outcomes
    assert list(stats.to_frame()["machine"]) == ["A", "B"]
    table = CliRunner().invoke(app, ["slots", "spins", str(log), "--by", "machine"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "free spins" in table.stdout
    data = json.loads(
        CliRunner().invoke(app, ["slots", "spins", str(log), "--by", "machine", "--format", "json"]).stdout
    )
    assert [g["machine"] for g in data["groups"]] == ["A", "B"]


MACHINE = {
    "reels": [["7", "BAR", "CH", "BL", "BL"], ["7", "BAR", "CH", "BL"], ["7", "BAR", "BAR", "CH", "BL"]],
    "paytable": [
        {"symbols": ["7", "7", "7"], "pay": 50},
        {"symbols": [["7", "BAR"], ["7", "BAR"], ["7", "BAR"]], "pay": 5},  # any mix of 7s and bars
        {"symbols": ["CH", "any", "any"], "pay": 1},
    ],
}


def brute_force(spec: dict) -> float:
    """Payback by visiting every stop combination; a list in the paytable is a set of symbols."""
    total = n = 0
    for stops in itertools.product(*spec["reels"]):
        pays = [
            line["pay"]
            for line in spec["paytable"]
            if all(
                w == "any" or g == w or (isinstance(w, list) and g in w)
                for w, g in zip(line["symbols"], stops, strict=True)
            )
        ]
        total += max(pays, default=0)
        n += 1
    return total / n


def test_symbol_sets_pay_as_the_brute_force_count(tmp_path):
    path = write(tmp_path / "m.yaml", yaml.safe_dump(MACHINE))
    assert slots_reels(path).payback == pytest.approx(brute_force(MACHINE))
    assert brute_force(MACHINE) > brute_force({**MACHINE, "paytable": [MACHINE["paytable"][0], MACHINE["paytable"][2]]})


def test_a_paytable_typo_and_a_wild_are_refused(tmp_path):
    typo = {**MACHINE, "paytable": [{"symbols": ["CHERRY", "any", "any"], "pay": 2}]}
    with pytest.raises(InputFileError, match=r"paytable\[0\]: symbol 'CHERRY' is on no stop of reel 1"):
        machine_from_dict(typo, "m.yaml")
    with pytest.raises(InputFileError, match="'wild' is not a key hitrate computes"):
        machine_from_dict({**MACHINE, "wild": "W"}, "m.yaml")
    with pytest.raises(InputFileError, match=r"paytable\[0\]: 'multiplier' is not a key"):
        machine_from_dict({**MACHINE, "paytable": [{"symbols": ["7", "7", "7"], "pay": 5, "multiplier": 2}]})
    path = write(tmp_path / "typo.yaml", yaml.safe_dump(typo))
    out = CliRunner().invoke(app, ["slots", "reels", str(path)])
    assert out.exit_code == 2 and "CHERRY" in out.stderr
    assert load_machine(write(tmp_path / "ok.yaml", yaml.safe_dump(MACHINE))).paytable[1].symbols[0] == ("7", "BAR")


def test_par_tables_that_cannot_be_a_machine_are_flagged(tmp_path):
    """Pays for a 3-credit bet read at the default wager of 1 give a payback of (3·90 + 9·10) / 100 = 360%;
    a table of hits only gives a hit frequency of 100%."""
    table = write(tmp_path / "par.csv", "pay,count\n0,0\n3,90\n9,10\n")
    stats = par_from_table(table)
    assert stats.payback == pytest.approx(3.6)
    assert [str(w).split(":")[0] for w in stats.warnings] == [
        "every outcome in the table pays (hit frequency 100%)",
        "payback above 100% is impossible for a real machine",
    ]
    assert stats.extra["table_shape"] == "counts" and "stop combinations in 'count'" in str(stats.warnings[0])
    fine = par_from_table(write(tmp_path / "ok.csv", "pay,probability\n0,0.8\n3,0.2\n"), wager=3)
    assert fine.warnings == [] and fine.extra["table_shape"] == "probabilities"
    out = CliRunner().invoke(app, ["slots", "par", str(table)])
    assert out.exit_code == 0 and "--wager" in out.stderr
