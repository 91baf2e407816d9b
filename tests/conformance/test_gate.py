"""No green without comparing: what `python -m conformance` and the tests do when an input is missing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conformance.gate import ci_strict, unavailable  # noqa: E402


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    binary = tmp_path / "realapi-server"
    binary.write_text("")
    full = {k: v for k, v in os.environ.items() if k != "CI"}
    full.update(env, DVP_REFERENCE_DIR=str(tmp_path / "no-reference"))
    return subprocess.run([sys.executable, "-m", "conformance", "--binary", str(binary)], cwd=REPO, env=full,
                          capture_output=True, text=True, timeout=120, check=False)


def test_under_ci_a_missing_reference_folder_fails_the_run_naming_it(tmp_path: Path) -> None:
    run = _run(tmp_path, CI="true")
    assert run.returncode == 1, run.stdout + run.stderr
    for line in ("dev", "v1.10"):
        assert f"conformance: FAIL: {line}: no reference CRDs at {tmp_path / 'no-reference'}" in run.stdout
    assert run.stdout.rstrip().endswith("conformance: 0 cases, 0 differences")


def test_without_ci_nothing_compared_still_fails(tmp_path: Path) -> None:
    run = _run(tmp_path)
    assert "line skipped" in run.stdout
    assert run.returncode == 1 and "conformance: FAIL: no case was compared" in run.stdout, run.stdout


@pytest.mark.parametrize("value,strict", [("true", True), ("1", True), ("", False), ("false", False), ("0", False)])
def test_ci_values(monkeypatch: pytest.MonkeyPatch, value: str, strict: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert ci_strict() is strict


def test_unavailable_skips_outside_ci_and_fails_under_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no kubectl"):
        unavailable("no kubectl")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no kubectl.*CI is set"):
        unavailable("no kubectl")
