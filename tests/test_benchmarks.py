"""The benchmark script runs end to end in its quick mode (what CI checks; the numbers are not judged)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.mark.slow
def test_benchmarks_quick_run_prints_the_table(tmp_path):
    out = tmp_path / "bench.md"
    env = {**os.environ, "UNSTUCK_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--runs", "1", "--entries", "100", "--out", str(out)], capture_output=True,
                          text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    header = "| measurement | unstuck | floor | ratio | target | met |"
    assert header in done.stdout
    for row in ("`unstuck tag` cold start", "--workers 1", "--workers 2", "peak memory"):
        assert row in done.stdout, row
    assert out.read_text(encoding="utf-8").startswith(header)
    assert not list(tmp_path.glob("corpus*")), "the corpus belongs in a temporary directory"

