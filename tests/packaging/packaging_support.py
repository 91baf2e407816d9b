"""Helpers for the dvp-sandbox distribution tests (fixtures in conftest.py): fresh virtual environments,
a user's environment, process checks.

- `user_env(...)`: this process's environment without anything that could point at the checkout or at
  another sandbox (PYTHONPATH, VIRTUAL_ENV, DVP_SANDBOX_*, KUBECONFIG, K8S_AUTH_*, ANSIBLE_*, MOLECULE_*).
- `assert_nothing_left(state_dir)`: no process recorded in the state dir's pids/ lives, and no process has
  the state dir in its command line.
- `pip_cache()`: pip's cache folder of this user, for a test that gives pip a HOME of its own.
- `check_apt(lines)`: documented `apt-get` lines install exactly the packages of the programs `up --seed` runs
  (they are not run: the test skips when a program is missing here).
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STRIP_PREFIXES = ("DVP_SANDBOX_", "K8S_AUTH_", "ANSIBLE_", "MOLECULE_")
STRIP = ("PYTHONPATH", "VIRTUAL_ENV", "KUBECONFIG", "PYTHONHOME")
SEED_PROGRAMS = ("qemu-img", "docker-registry", "xorriso")   # the system programs `dvp-sandbox up --seed` runs


def stopped_all() -> str:
    """What `down` prints when it stopped every component (in reverse start order)."""
    from sandbox.components import COMPONENTS
    return "stopped: " + ", ".join(c.name for c in reversed(COMPONENTS))


def user_env(path: Iterable[Path | str] = (), **extra: str) -> Dict[str, str]:
    """A user's shell: this environment minus what points at the checkout or a sandbox; `path` goes in
    front of PATH."""
    env = {k: v for k, v in os.environ.items() if k not in STRIP and not k.startswith(STRIP_PREFIXES)}
    env["PATH"] = os.pathsep.join([str(p) for p in path] + [env.get("PATH", "")])
    env.update(extra)
    return env


def run(argv: List[str], env: Dict[str, str], cwd: Path, timeout: float = 300, check: bool = True
        ) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], env=env, cwd=str(cwd), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        pytest.fail("%s exited %d\n--- stdout\n%s\n--- stderr\n%s" % (
            shlex.join(str(a) for a in argv), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    return proc


def pip_cache() -> str:
    return os.environ.get("PIP_CACHE_DIR") or str(Path(os.environ.get("XDG_CACHE_HOME") or
                                                       Path.home() / ".cache") / "pip")


def check_apt(lines: List[str]) -> None:
    """apt-get lines only, installing exactly the packages of the programs `up --seed` runs (present here)."""
    from sandbox import tools
    packages = set()
    for line in (line.strip() for line in lines if line.strip()):
        words = shlex.split(line, comments=True)
        words = words[1:] if words[0] == "sudo" else words
        assert words[0] == "apt-get", line
        if words[1] == "install":
            packages.update(w for w in words[2:] if not w.startswith("-"))
    assert packages == {tools.TOOLS[name].package for name in SEED_PROGRAMS}, packages
    for name in SEED_PROGRAMS:
        if not shutil.which(name):
            pytest.skip("%s is not installed on this machine" % name)


def fresh_venv(where: Path, *requirements: str, cwd: Path) -> Path:
    """A new venv at `where` with `requirements` installed by its own pip; returns its bin folder."""
    run([sys.executable, "-m", "venv", where], env=user_env(), cwd=cwd)
    venv_bin = where / "bin"
    if requirements:
        run([venv_bin / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
            env=user_env(), cwd=cwd, timeout=600)
    return venv_bin


def parse_env_file(path: Path) -> Dict[str, str]:
    """The `export K='V'` lines the sandbox writes for users to source."""
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _sep, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def _cmdline(pid: int) -> Optional[str]:
    try:
        raw = Path("/proc/%d/cmdline" % pid).read_bytes()
        state = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    return None if state == "Z" else raw.replace(b"\0", b" ").decode(errors="replace")


def processes_mentioning(text: str) -> List[Tuple[int, str]]:
    """Live processes (not zombies, not this one) whose command line holds `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            cmdline = _cmdline(int(entry.name))
            if cmdline and text in cmdline:
                found.append((int(entry.name), cmdline))
    return found


def recorded_pids(state_dir: Path) -> List[int]:
    pids_dir = state_dir / "pids"
    if not pids_dir.is_dir():
        return []
    return [int(p.read_text().split()[0]) for p in pids_dir.glob("*.pid") if p.read_text().strip()]


def assert_nothing_left(state_dir: Path, pids: Iterable[int] = ()) -> None:
    """Every given or recorded PID is gone and no process names the state dir."""
    alive = [pid for pid in set(pids) | set(recorded_pids(state_dir)) if _cmdline(pid) is not None]
    assert not alive, "still running: %s" % [(pid, _cmdline(pid)) for pid in alive]
    assert not processes_mentioning(str(state_dir)), processes_mentioning(str(state_dir))
