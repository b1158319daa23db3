"""Slot machines: PAR outcome tables, reel strips by exact enumeration against simulation, spin logs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from hitrate.cli import app
from hitrate.domains.slots import enumerate_machine, load_machine, par_from_table, simulate, spin_log_stats
from hitrate.errors import InputFileError
from tests.conftest import DATA, require

PAR = DATA / "slot_par_sheets_harrigan_dixon_2009"
DOUBLE_DIAMOND = PAR / "table2_double_diamond_deluxe_92_5_outcome_distribution.csv"

MACHINE = {
    "name": "three sevens",
    "wager": 1,
    "reels": [
        ["7", "BAR", "BAR", "CH", "BL", "BL", "BL", "BAR"],
        ["7", "BAR", "CH", "BL", "BL", "BL"],
        ["7", "7", "BAR", "CH", "CH", "BL", "BL"],
    ],
    "paytable": [
        {"symbols": ["7", "7", "7"], "pay": 100},
        {"symbols": ["BAR", "BAR", "BAR"], "pay": 20},
        {"symbols": ["CH", "any", "any"], "pay": 2},
        {"symbols": ["CH", "CH", "any"], "pay": 5},
    ],
}


@pytest.fixture
def machine_file(tmp_path: Path) -> Path:
    path = tmp_path / "machine.yaml"
    path.write_text(yaml.safe_dump(MACHINE), encoding="utf-8")
    return path


def brute_force(spec: dict) -> tuple[float, float]:
    """Hit frequency and payback by visiting every stop combination one by one."""
    hits = paid = n = 0
    for stops in itertools.product(*spec["reels"]):
        pays = [
            line["pay"]
            for line in spec["paytable"]
            if all(w in ("any", g) for w, g in zip(line["symbols"], stops, strict=True))
        ]
        pay = max(pays, default=0)
        n += 1
        hits += pay > 0
        paid += pay
    return hits / n, paid / (n * spec["wager"])


def test_double_diamond_from_the_par_outcome_table():
    if not DOUBLE_DIAMOND.exists():
        require(f"{DOUBLE_DIAMOND} is missing")
    stats = par_from_table(DOUBLE_DIAMOND, wager=3)
    assert stats.outcomes == 373_248 == 72**3
    assert round(stats.hit_frequency, 4) == 0.1429
    assert stats.hit_frequency == pytest.approx(1 - 319_928 / 373_248)
    assert round(stats.payback, 3) == 0.926
    assert (stats.extra["pay_column"], stats.extra["count_column"]) == ("max_pay_credits", "num_hits")
    by_probability = par_from_table(DOUBLE_DIAMOND, wager=3, count="probability")
    assert by_probability.payback == pytest.approx(stats.payback, abs=1e-5)  # probabilities to 8 decimals


def test_slots_par_cli_json_and_mistakes():
    if not DOUBLE_DIAMOND.exists():
        require(f"{DOUBLE_DIAMOND} is missing")
    runner = CliRunner()
    out = runner.invoke(app, ["slots", "par", str(DOUBLE_DIAMOND), "--wager", "3", "--format", "json"])
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert abs(data["hit_frequency"] - 0.14285) < 2e-4 and abs(data["payback"] - 0.92613) < 2e-4
    text = runner.invoke(app, ["slots", "par", str(DOUBLE_DIAMOND), "--wager", "3"])
    assert "hit frequency 14.29%" in text.stdout and "payback 92.61%" in text.stdout
    bad = runner.invoke(app, ["slots", "par", str(DOUBLE_DIAMOND), "--pay", "nope"])
    assert bad.exit_code == 2 and "--pay nope: no such column" in bad.stderr


def test_enumeration_matches_brute_force_and_simulation_converges(machine_file):
    machine = load_machine(machine_file)
    exact = enumerate_machine(machine)
    hit, payback = brute_force(MACHINE)
    assert exact.outcomes == 8 * 6 * 7 == exact.extra["stop_combinations"]
    assert exact.hit_frequency == pytest.approx(hit, rel=1e-12)
    assert exact.payback == pytest.approx(payback, rel=1e-12)
    pays = simulate(machine, 400_000, seed=20261126)
    se_hit = np.sqrt(exact.hit_frequency * (1 - exact.hit_frequency) / len(pays))
    se_pay = exact.volatility / np.sqrt(len(pays))
    assert abs((pays > 0).mean() - exact.hit_frequency) < 4 * se_hit
    assert abs(pays.mean() - exact.payback) < 4 * se_pay
    assert pays.std() == pytest.approx(exact.volatility, rel=0.03)


def test_a_simulated_spin_log_converges_to_the_enumerated_values(machine_file, tmp_path):
    machine = load_machine(machine_file)
    exact = enumerate_machine(machine)
    pays = simulate(machine, 200_000, seed=7)
    log = tmp_path / "spins.csv"
    np.savetxt(log, np.column_stack([np.full(len(pays), 1.0), pays]), delimiter=",", header="wager,win", comments="")
    observed = spin_log_stats(log)
    assert observed.outcomes == 200_000
    low, high = observed.extra["hit_frequency_ci"]
    assert low < exact.hit_frequency < high
    plow, phigh = observed.extra["payback_ci"]
    assert plow < exact.payback < phigh
    assert observed.payback == pytest.approx(pays.mean())
    out = CliRunner().invoke(app, ["slots", "spins", str(log), "--format", "json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["hits"] == int((pays > 0).sum())
    reels = CliRunner().invoke(app, ["slots", "reels", str(machine_file), "--simulate", "10000", "--format", "json"])
    data = json.loads(reels.stdout)
    assert data["payback"] == pytest.approx(exact.payback) and data["simulation"]["outcomes"] == 10000


def test_reel_file_mistakes_name_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"reels": [["A"], ["B"]], "paytable": [{"symbols": ["A"], "pay": 1}]}))
    with pytest.raises(InputFileError, match=r"paytable\[0\]: 1 symbols for 2 reels"):
        load_machine(bad)
    out = CliRunner().invoke(app, ["slots", "reels", str(tmp_path / "none.yaml")])
    assert out.exit_code == 2 and "no such file" in out.stderr


def test_the_commands_take_the_file_first_and_return_results(machine_file, tmp_path):
    """slots_par/slots_reels/slots_spins (the commands' functions) and the SlotStats face: summary, to_frame,
    to_dict, _repr_html_, plot; the headline is the command's table line, in English and Danish."""
    from hitrate.domains import SlotStats, slots_reels, slots_spins

    reels = slots_reels(machine_file, simulate=2000, seed=1)
    assert isinstance(reels, SlotStats)
    data = reels.to_dict()
    assert list(data) == [
        "source",
        "method",
        "wager",
        "outcomes",
        "hits",
        "hit_frequency",
        "payback",
        "volatility",
        "distribution",
        "warnings",
        "stop_combinations",
        "simulation",
    ]
    assert data["simulation"]["source"] == "2000 simulated spins" and json.loads(json.dumps(data)) == data
    frame = reels.to_frame()
    assert list(frame.columns) == ["pay", "count", "probability"] and frame["count"].sum() == reels.outcomes
    line = reels.headline().render("en")
    cli = CliRunner().invoke(app, ["slots", "reels", str(machine_file)])
    assert cli.stdout.strip() == line
    assert reels.headline().render("da").startswith(f"{machine_file}: gevinstfrekvens ")
    assert reels.summary().splitlines()[:2] == [f"Slot machine: {machine_file}", line]
    assert "<table" in reels._repr_html_()
    fig = reels.plot()
    assert list(fig.data[0].x) == list(reels.distribution) and fig.layout.yaxis.type == "log"
    log = tmp_path / "spins.csv"
    log.write_text("wager,win\n1,0\n1,2\n2,0\n1,5\n", encoding="utf-8")
    spins = slots_spins(log)
    assert spins.method == "spin log (observed)" and spins.method.render("da") == "spinlog (observeret)"
    assert len(spins.to_frame()) == 1 and "<table" in spins._repr_html_()
    bars = spins.plot()
    assert list(bars.data[0].y) == [spins.hit_frequency, spins.payback]


def test_file_mistakes_name_the_parameter_the_way_each_face_writes_it(tmp_path):
    from hitrate.domains import slots_spins

    log = tmp_path / "spins.csv"
    log.write_text("wager,win\n1,0\n", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        slots_spins(log, win="payout")
    assert str(info.value) == f"{log}: win payout: no such column; the columns are: wager, win"
    assert info.value.render("en", lambda p: f"--{p}").endswith(
        "--win payout: no such column; the columns are: wager, win"
    )
    assert info.value.render("da").endswith("win payout: kolonnen findes ikke; kolonnerne er: wager, win")
