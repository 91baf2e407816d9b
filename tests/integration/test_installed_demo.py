"""The built tarball installs offline into a clean folder and the demo runs from that installed copy.

The demo playbook lives in the repo, next to the collection's source; to be sure the run cannot pick the
repo copy up, the playbooks are copied out of the repo and ANSIBLE_COLLECTIONS_PATH names only the
installed folder (sys.path scanning off).
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FQCN = "deckhouse.virtualization"


def _sandbox_env(env_path: str) -> Dict[str, str]:
    """The `export K='V'` lines the sandbox writes for users to source."""
    env = {}
    for line in Path(env_path).read_text().splitlines():
        if line.startswith("export "):
            key, _sep, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("installed")
    subprocess.run([BIN / "ansible-galaxy", "collection", "build", "--output-path", work, REPO],
                   check=True, capture_output=True, text=True)
    (tarball,) = work.glob("deckhouse-virtualization-*.tar.gz")
    dest = work / "collections"
    subprocess.run([BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", dest, tarball],
                   check=True, capture_output=True, text=True, cwd=work)
    return dest


@pytest.fixture(scope="module")
def demo_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A seeded sandbox of its own: the demo's namespaces and cluster images stay out of the shared one."""
    from sandbox.handle import Sandbox
    sb = Sandbox(tmp_path_factory.mktemp("demo-sandbox"))
    try:
        sb.up(seed=True)
        yield sb
    finally:
        sb.down()


def test_demo_runs_from_the_installed_copy(demo_sandbox: Any, installed: Path, tmp_path: Path) -> None:
    sandbox = demo_sandbox
    playbooks = tmp_path / "playbooks"
    shutil.copytree(REPO / "playbooks", playbooks)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "K8S_AUTH_", "DVP_SANDBOX_"))}
    env.update(_sandbox_env(sandbox.env_path))
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(installed), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOME": str(tmp_path / "home"),
                "PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))})

    listed = json.loads(subprocess.run([BIN / "ansible-galaxy", "collection", "list", FQCN, "--format", "json"],
                                       check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout)
    assert list(listed) == [str(installed / "ansible_collections")], listed

    proc = subprocess.run([BIN / "ansible-playbook", "-i", "inventory/sandbox.yml", "demo.yml"],
                          capture_output=True, text=True, env=env, cwd=playbooks, timeout=400, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "failed=0" in proc.stdout
    assert str(REPO) not in proc.stdout + proc.stderr
