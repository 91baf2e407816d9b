"""`make bench` fails on a missed goal: the catalog benchmark's judgement of its goals (the ratios and the fan-out
bytes per distinct source), and scripts/bench.sh's exit status over several benchmarks. Fast: no sandbox, no run."""
from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20


def _catalog_bench() -> Any:
    spec = importlib.util.spec_from_file_location("catalog_bench", REPO / "bench" / "catalog" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalog_goals_met_and_missed(capsys):
    bench = _catalog_bench()
    met = bench.report([("seed", 10.0, 120.0, 10.0), ("two loops", 10.0, 15.0, None)],
                       [("none", [4 * MIB] * 3, MIB, 5.0), ("cluster", [MIB] * 3, MIB, 2.0)])
    assert met == []
    assert "<=1x per source ok" in capsys.readouterr().out
    missed = bench.report([("seed", 10.0, 90.0, 10.0)], [("cluster", [MIB, 2 * MIB, MIB], MIB, 2.0)])
    assert len(missed) == 2 and missed[0].startswith("seed: 9.0x, goal >=10x"), missed
    assert "served 2.00x its size" in missed[1], missed
    assert capsys.readouterr().out.count("MISSED") == 2
    assert bench.FANOUT_GOAL == 1.0


def test_catalog_fanout_goal_is_per_source():
    """The total can be 1.0x while one source is fetched twice and another not at all: still missed."""
    assert _catalog_bench().report([], [("cluster", [2 * MIB, 0, MIB], MIB, 1.0)])


def test_bench_script_fails_when_any_benchmark_misses_and_runs_them_all(tmp_path):
    """scripts/bench.sh in a tree whose Python stands in for the benchmarks: catalog misses, upload meets."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "bench.sh", tmp_path / "scripts" / "bench.sh")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    ran = tmp_path / "ran"
    python.write_text('#!/bin/sh\necho "$1" >> "%s"\ncase "$1" in *catalog*) exit 1 ;; esac\nexit 0\n' % ran)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, BENCH_UPLOAD_SIZES="1")
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "bench.sh")], capture_output=True, text=True,
                          env=env, check=False, timeout=60)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "goals missed or runs failed in: catalog" in proc.stderr
    assert ran.read_text().split() == ["bench/taskcost/run.py", "bench/catalog/run.py", "bench/upload/run.py",
                                       "bench/upload/run.py"]
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "bench.sh"), "upload"], capture_output=True,
                          text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 0 and "every goal met" in proc.stdout, (proc.stdout, proc.stderr)
