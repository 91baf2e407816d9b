"""The dvp-sandbox wheel: what it holds, and a user's whole round with it from a fresh virtual environment.

Installed from the built wheel into a fresh venv (nothing of this checkout on its path, run from a folder
outside it): `dvp-sandbox up --seed`, `kubectl get vi -A`, `playbooks/demo.yml` from the installed collection
tarball, `dvp-sandbox down`, and then no process is left (neither a recorded PID nor anything naming the
state dir). openshift-client (kubectl standing in for `oc`) watches the cluster's state independently of the
collection and of the sandbox's own Python client.
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Dict, List, Set

import pytest

from conformance.gate import unavailable
from packaging_support import (BIN, REPO, assert_nothing_left, parse_env_file, processes_mentioning, recorded_pids,
                               run, stopped_all, user_env)

from sandbox.components import COMPONENTS

# import name -> distribution name, for the sandbox's third-party imports
DISTRIBUTIONS = {"aiohttp": "aiohttp", "celpy": "cel-python", "cryptography": "cryptography",
                 "gostcrypto": "gostcrypto", "yaml": "PyYAML", "requests": "requests", "kubernetes": "kubernetes"}
EXTRAS = {"kubernetes"}   # only sandbox.handle's test client needs it: the `client` extra


def _tracked_files() -> Set[str]:
    """Every file of sandbox/ git tracks or would track (modules and the READMEs beside them)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "sandbox"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    return {name for name in out if (REPO / name).is_file()}


def _tracked_modules() -> Set[str]:
    return {name for name in _tracked_files() if name.endswith(".py")}


def _third_party_imports() -> Set[str]:
    found = set()
    for name in _tracked_modules():
        for node in ast.walk(ast.parse((REPO / name).read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            found.update(t for t in tops if t not in sys.stdlib_module_names and t != "sandbox")
    return found


def _requirement_name(spec: str) -> str:
    return re.split(r"[ ;<>=!~\[]", spec, maxsplit=1)[0]


def test_the_wheel_holds_every_module_its_dependencies_and_the_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(metadata_name).decode())
        (entry_points_name,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_points = zf.read(entry_points_name).decode()
    assert {n for n in names if n.startswith("sandbox/")} == _tracked_files()
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "dvp-sandbox = sandbox.cli:console_main" in entry_points
    assert metadata["Name"] == "dvp-sandbox" and metadata["Version"]

    requires = metadata.get_all("Requires-Dist")
    plain = {_requirement_name(r): r for r in requires if "extra ==" not in r}
    extra = {_requirement_name(r): r for r in requires if "extra ==" in r}
    imports = _third_party_imports()
    assert set(DISTRIBUTIONS) >= imports, "an import without a dependency: %s" % (imports - set(DISTRIBUTIONS))
    assert set(plain) == {DISTRIBUTIONS[i] for i in imports - EXTRAS}
    assert set(extra) == {DISTRIBUTIONS[i] for i in EXTRAS}
    for spec in requires:   # every dependency is a range with both ends
        assert ">=" in spec and "<" in spec.replace("<=", ""), spec


def _subcommands(help_text: str) -> List[str]:
    return sorted(re.search(r"\{([a-z,-]+)\}", help_text).group(1).split(","))


def test_the_command_has_the_subcommands_of_python_m_sandbox_and_a_per_user_state_dir(
        installed_sandbox: Path, tmp_path: Path) -> None:
    installed = run([installed_sandbox / "dvp-sandbox", "--help"], env=user_env(), cwd=tmp_path).stdout
    checkout = run([BIN / "python", "-m", "sandbox", "--help"], env=user_env(), cwd=REPO).stdout
    assert _subcommands(installed) == _subcommands(checkout)
    assert {"up", "down", "status", "restart", "faults", "seed"} <= set(_subcommands(installed))
    version = run([installed_sandbox / "dvp-sandbox", "--version"], env=user_env(), cwd=tmp_path).stdout
    assert re.fullmatch(r"dvp-sandbox \d+\.\d+\.\d+\s*", version), version

    home = tmp_path / "home"
    status = run([installed_sandbox / "dvp-sandbox", "status"], env=user_env(HOME=str(home)), cwd=tmp_path).stdout
    assert status.strip() == "no sandbox in %s" % (home / ".local" / "state" / "dvp-sandbox")
    xdg = run([installed_sandbox / "dvp-sandbox", "status"], cwd=tmp_path,
              env=user_env(HOME=str(home), XDG_STATE_HOME=str(tmp_path / "xdg"))).stdout
    assert xdg.strip() == "no sandbox in %s" % (tmp_path / "xdg" / "dvp-sandbox")
    chosen = run([installed_sandbox / "dvp-sandbox", "status"], cwd=tmp_path,
                 env=user_env(HOME=str(home), DVP_SANDBOX_DIR=str(tmp_path / "mine"))).stdout
    assert chosen.strip() == "no sandbox in %s" % (tmp_path / "mine")


def _observer(kubeconfig: str):  # type: ignore[no-untyped-def]
    """openshift-client with kubectl as its `oc`, logged in through the sandbox's kubeconfig."""
    import openshift_client as oc
    kubectl = shutil.which("kubectl")
    return oc, [oc.client_path(kubectl), oc.options({"kubeconfig": kubeconfig})]


def _observed_images(kubeconfig: str) -> Dict[str, str]:
    """namespace/name -> phase of every VirtualImage, as openshift-client sees them."""
    oc, contexts = _observer(kubeconfig)
    with contexts[0], contexts[1]:
        return {"%s/%s" % (o.namespace(), o.name()): o.model.status.phase
                for o in oc.selector("virtualimages.virtualization.deckhouse.io", all_namespaces=True).objects()}


@pytest.mark.kubectl
def test_installed_sandbox_up_kubectl_playbook_down(installed_sandbox: Path, installed_collection: Path,
                                                    tmp_path: Path) -> None:
    if not shutil.which("kubectl"):
        unavailable("kubectl is not installed")
    state = tmp_path / "state"
    work = tmp_path / "work"
    work.mkdir()
    command = installed_sandbox / "dvp-sandbox"
    env = user_env()

    origin = run([installed_sandbox / "python", "-c", "import sandbox, sys; print(sandbox.__file__); print(sys.path)"],
                 env=env, cwd=work).stdout
    assert str(REPO) not in origin and origin.startswith(str(installed_sandbox.parent)), origin

    try:
        up = run([command, "--state-dir", state, "up", "--seed"], env=env, cwd=work, timeout=240)
        assert "source %s" % (state / "env") in up.stdout
        pids = recorded_pids(state)
        assert sorted(p.stem for p in (state / "pids").glob("*.pid")) == sorted(c.name for c in COMPONENTS), pids
        for pid in pids:                # the sandbox's Python processes run the venv's interpreter, in the state dir
            argv = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
            assert Path("/proc/%d/cwd" % pid).resolve() == state.resolve()
            assert str(REPO).encode() not in b" ".join(argv)
            if "python" in Path(argv[0].decode()).name:
                assert argv[0].decode() == str(installed_sandbox / "python"), argv
        sandbox_env = parse_env_file(state / "env")
        user = user_env(**sandbox_env)

        listed = run(["kubectl", "get", "vi", "-A"], env=user, cwd=work)
        assert "No resources found" in listed.stdout + listed.stderr
        assert _observed_images(sandbox_env["KUBECONFIG"]) == {}

        playbooks = work / "playbooks"
        shutil.copytree(REPO / "playbooks", playbooks)
        play_env = user_env([BIN], **sandbox_env, ANSIBLE_COLLECTIONS_PATH=str(installed_collection),
                            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1",
                            ANSIBLE_HOME=str(tmp_path / "ansible-home"))
        played = run([BIN / "ansible-playbook", "-i", "inventory/sandbox.yml", "demo.yml"], env=play_env,
                     cwd=playbooks, timeout=400)
        assert "failed=0" in played.stdout

        listed = run(["kubectl", "get", "vi", "-A", "--no-headers"], env=user, cwd=work).stdout
        rows = [line.split() for line in listed.splitlines()]
        observed = _observed_images(sandbox_env["KUBECONFIG"])
        assert sorted("%s/%s" % (row[0], row[1]) for row in rows) == sorted(observed)
        assert "demo-a/demo-pull" in observed and "demo-b/demo-pull" in observed, observed
        assert set(observed.values()) == {"Ready"}, observed
        assert str(REPO) not in played.stdout
    finally:
        pids = recorded_pids(state)
        down = subprocess.run([str(command), "--state-dir", str(state), "down"], env=env, cwd=str(work),
                              capture_output=True, text=True, timeout=120, check=False)
    assert down.returncode == 0, down.stderr
    assert down.stdout.startswith(stopped_all()), down.stdout
    assert_nothing_left(state, pids)
    assert not processes_mentioning(str(installed_sandbox / "python") + " -m sandbox")
