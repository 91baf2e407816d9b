"""The CI recipes of the guide (docs/examples/ci/) run as written, against the built wheel and tarball.

The shell steps are read from the example files (GitHub Actions: the job's `run:` steps with their `if:`;
GitLab CI: `before_script` and `script` in one shell, `after_script` in another) and run with bash the way
each CI runs them. What stands in for the CI machine, and the only substitutions made:

- a fresh venv first on PATH for `actions/setup-python` / the job's Python image (nothing of this checkout
  on PATH), a HOME of its own (pip keeps its cache), and a work folder holding the example playbook
  (`actions/checkout` / the project dir);
- the variables naming the install sources, `DVP_SANDBOX` and `DVP_COLLECTION`, are set to the built wheel
  and collection tarball (the examples name PyPI and Galaxy releases), and the GitHub expression
  `${{ runner.temp }}` becomes a temp folder (any other expression fails the test);
- the `apt-get` lines are not run (the packages are on this machine, see bindep.txt): the test checks that
  they install exactly the packages sandbox/tools.py names for the programs `up --seed` needs.

Afterwards no process of the sandbox is left; openshift-client (kubectl as `oc`) checks the playbook's image
between the playbook step and the stop step.
"""
from __future__ import annotations

import os
import re
import shutil
import string
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from conformance.gate import unavailable
import yaml
from packaging_support import REPO, assert_nothing_left, check_apt, fresh_venv, pip_cache, stopped_all, user_env

EXAMPLES = REPO / "docs" / "examples" / "ci"
GITHUB_ACTIONS = {"actions/checkout@v4", "actions/setup-python@v5"}


def _machine(tmp_path: Path) -> Tuple[Path, Dict[str, str]]:
    """A work folder with the example playbook, and the environment of a clean CI machine."""
    work = tmp_path / "checkout"
    work.mkdir()
    shutil.copy(EXAMPLES / "sandbox-smoke.yml", work / "sandbox-smoke.yml")
    python = fresh_venv(tmp_path / "python", cwd=tmp_path)
    env = user_env([python], HOME=str(tmp_path / "home"), PIP_CACHE_DIR=pip_cache(), ANSIBLE_NOCOLOR="1")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(REPO)))
    return work, env


def _bash(script: str, env: Dict[str, str], cwd: Path, name: str) -> subprocess.CompletedProcess:
    """One CI shell: GitHub's `bash --noprofile --norc -eo pipefail {0}` (GitLab's scripts fail on a command's
    failure as well)."""
    path = cwd.parent / ("step-%s.sh" % re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
    path.write_text(script)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], env=env, cwd=str(cwd),
                          capture_output=True, text=True, timeout=600, check=False)


def _observed_image(kubeconfig: Path, namespace: str, name: str) -> Dict[str, Any]:
    """The VirtualImage as openshift-client (kubectl as `oc`) sees it."""
    import openshift_client as oc
    with oc.client_path(shutil.which("kubectl")), oc.options({"kubeconfig": str(kubeconfig)}), oc.project(namespace):
        return oc.selector("virtualimages.virtualization.deckhouse.io/%s" % name).object().model._primitive()


def _report(ran: List[Tuple[str, subprocess.CompletedProcess]]) -> str:
    return "\n".join("--- %s (exit %d)\n%s%s" % (name, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
                     for name, p in ran)


@pytest.mark.kubectl
def test_github_actions_example(wheel: Path, collection_tarball: Path, tmp_path: Path) -> None:
    if not shutil.which("kubectl"):
        unavailable("kubectl is not installed (GitHub's runners have it)")
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    (job,) = workflow["jobs"].values()
    work, env = _machine(tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    job_env = {key: str(value).replace("${{ runner.temp }}", str(runner_temp)) for key, value in job["env"].items()}
    assert not [v for v in job_env.values() if "${{" in v], job_env
    assert {"DVP_SANDBOX", "DVP_COLLECTION"} <= set(job_env)
    env.update(job_env, DVP_SANDBOX=str(wheel), DVP_COLLECTION=str(collection_tarball))
    state = Path(job_env["DVP_SANDBOX_DIR"])

    assert {step["uses"] for step in job["steps"] if "uses" in step} == GITHUB_ACTIONS
    ran: List[Tuple[str, subprocess.CompletedProcess]] = []
    failed = False
    observed: Dict[str, Any] = {}
    for step in job["steps"]:
        if "uses" in step:
            continue
        name, script, condition = step["name"], step["run"], step.get("if", "success()")
        assert condition in ("success()", "failure()", "always()"), condition
        if "apt-get" in script:
            check_apt(script.splitlines())
            continue
        if condition == "success()" and failed or condition == "failure()" and not failed:
            continue
        if name.startswith("Stop") and not failed:     # between the playbook and the stop: look at the cluster
            observed = _observed_image(state / "kubeconfig", "ci-smoke", "smoke-disk")
        proc = _bash(script, env, work, name)
        ran.append((name, proc))
        failed = failed or proc.returncode != 0

    assert not failed, _report(ran)
    names = [name for name, _proc in ran]
    assert "$DVP_SANDBOX" in job["steps"][3]["run"] and "$DVP_COLLECTION" in job["steps"][3]["run"]
    assert names[-1].startswith("Stop") and not [n for n in names if "logs" in n], names
    playbook = [p for name, p in ran if "playbook" in name.lower()][0]
    assert "failed=0" in playbook.stdout and "ok=4" in playbook.stdout, playbook.stdout
    assert "No resources found" in playbook.stderr           # kubectl get vi -A, before the playbook
    assert observed["status"]["phase"] == "Ready" and observed["status"]["format"] == "qcow2", observed
    assert ran[-1][1].stdout.startswith(stopped_all())
    assert_nothing_left(state)


def test_gitlab_ci_example(wheel: Path, collection_tarball: Path, tmp_path: Path) -> None:
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    (job,) = pipeline.values()
    work, env = _machine(tmp_path)
    env["CI_PROJECT_DIR"] = str(work)
    variables = {key: string.Template(str(value)).substitute(env) for key, value in job["variables"].items()}
    assert {"DVP_SANDBOX", "DVP_COLLECTION"} <= set(variables)
    env.update(variables, DVP_SANDBOX=str(wheel), DVP_COLLECTION=str(collection_tarball))
    state = Path(variables["DVP_SANDBOX_DIR"])
    assert [str(state.relative_to(work)) + "/logs/"] == job["artifacts"]["paths"]

    before = [line for line in job["before_script"] if "apt-get" not in line]
    check_apt([line for line in job["before_script"] if "apt-get" in line])
    main = _bash("\n".join(before + job["script"]) + "\n", env, work, "script")
    after = _bash("\n".join(job["after_script"]) + "\n", env, work, "after_script")

    assert main.returncode == 0, main.stdout[-4000:] + main.stderr[-4000:]
    assert "failed=0" in main.stdout and "ok=4" in main.stdout, main.stdout
    assert after.returncode == 0, after.stderr
    assert after.stdout.startswith(stopped_all()), after.stdout
    assert_nothing_left(state)
