"""The conformance harness catches a broken sandbox: a mutation test.

`python -m conformance` runs one case against the real server and against a sandbox whose merge patches
skip schema validation (tests/realapi/mutations/: a sitecustomize that wraps the sandbox's admission, put on
the sandbox's PYTHONPATH). The run must fail naming the step; the same run with the sandbox as it is must
pass, so the failure is the mutation's and not the case's.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MUTATIONS = Path(__file__).resolve().parent / "mutations"
CASE = "dev/vi/patch-invalid"


def _conformance(binary: Path, mutation: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if mutation:
        env["PYTHONPATH"] = os.pathsep.join([str(MUTATIONS / mutation), str(REPO)])
    return subprocess.run([sys.executable, "-m", "conformance", "--binary", str(binary), "--platform", "dev",
                           "--only", CASE], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_sandbox_that_accepts_an_invalid_merge_patch_fails_the_run(realapi_binary: Path) -> None:
    broken = _conformance(realapi_binary, "merge_patch_skips_schema")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"{CASE}#patch: code: real=422 sandbox=200" in broken.stdout, broken.stdout
    assert "conformance: 1 cases, 1 differences" in broken.stdout, broken.stdout


def test_the_same_case_passes_against_the_sandbox_as_it_is(realapi_binary: Path) -> None:
    clean = _conformance(realapi_binary, None)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "conformance: 1 cases, 0 differences" in clean.stdout, clean.stdout
