"""A contributor's clone has no ../shared: the suite still collects, and the tests that read the shared data
skip with a reason that names the missing folder (under HITRATE_REQUIRE_ALL, as in CI, they fail instead)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Test files that read the shared data, at collection or when they run.
READERS = ["tests/test_presets_pipedrive.py", "tests/test_presets_salesforce.py", "tests/test_slots.py"]


def _pytest(tmp_path: Path, *args: str, require_all: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HITRATE_REQUIRE_ALL"}
    env["HITRATE_SHARED_DATA"] = str(tmp_path / "no-shared" / "data")
    if require_all:
        env["HITRATE_REQUIRE_ALL"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_whole_suite_collects_without_the_shared_data(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "--collect-only")
    assert out.returncode == 0, out.stdout[-3000:]
    assert "error" not in out.stdout.splitlines()[-1]


def test_tests_of_shared_data_skip_naming_the_missing_folder(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "-rs", *READERS)
    assert out.returncode == 0, out.stdout[-3000:]
    skips = [line for line in out.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips and all(str(tmp_path / "no-shared" / "data") in line for line in skips), skips


def test_under_require_all_they_fail_instead(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "-x", READERS[0], require_all=True)
    assert out.returncode == 1 and "HITRATE_REQUIRE_ALL is set" in out.stdout
