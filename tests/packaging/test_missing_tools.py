"""The installed `dvp-sandbox up` and the system programs it runs (sandbox/tools.py).

A program missing from PATH, or a DVP_SANDBOX_* variable naming no executable, stops `up` before anything
starts, with one line per program naming its Debian/Ubuntu package and its variable; the exit code is 1 and
no process is left. A variable naming a binary elsewhere is what every sandbox process then runs.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import List

import pytest
from packaging_support import assert_nothing_left, recorded_pids, run, user_env

from sandbox import tools


def _only_these_programs(where: Path, names: List[str]) -> Path:
    """A folder holding links to just these system programs (a PATH without the others)."""
    where.mkdir()
    for name in names:
        real = shutil.which(name)
        if real is None:
            pytest.skip("%s is not installed here" % name)
        (where / name).symlink_to(real)
    return where


def test_programs_missing_from_path_stop_up_before_anything_starts(installed_sandbox: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = user_env([installed_sandbox], PATH=str(installed_sandbox))   # the venv's bin and nothing else
    proc = run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "up", "--seed"], env=env, cwd=tmp_path,
               check=False)
    assert proc.returncode == 1, proc
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == "error: missing system programs, nothing was started:"
    for name in ("qemu-img", "docker-registry", "xorriso"):
        tool = tools.TOOLS[name]
        (line,) = [line for line in lines if line.strip().startswith(name + ":")]
        assert "not found on PATH" in line
        assert "apt-get install %s" % tool.package in line and tool.env in line, line
    assert "openssl" not in proc.stderr          # optional: streebog falls back to pure Python
    assert not state.exists()
    assert_nothing_left(state)


def test_without_seed_xorriso_is_not_needed(installed_sandbox: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = user_env(PATH=str(installed_sandbox))
    proc = run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "up"], env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "qemu-utils" in proc.stderr and "docker-registry" in proc.stderr
    assert "xorriso" not in proc.stderr
    assert_nothing_left(state)


def test_a_variable_naming_no_binary_stops_up_though_the_program_is_on_path(installed_sandbox: Path,
                                                                            tmp_path: Path) -> None:
    if not (shutil.which("qemu-img") and shutil.which("docker-registry")):
        pytest.skip("qemu-img and docker-registry are not installed here")
    state = tmp_path / "state"
    nowhere = tmp_path / "opt" / "qemu-img"
    env = user_env(DVP_SANDBOX_QEMU_IMG=str(nowhere))
    proc = run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "up"], env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "error: missing system programs, nothing was started:",
        "  qemu-img: DVP_SANDBOX_QEMU_IMG=%s is not an executable file (needed by the image controller and the "
        "demo sources); point DVP_SANDBOX_QEMU_IMG at a qemu-img binary (Debian/Ubuntu package qemu-utils) or "
        "unset it to use the one on PATH" % nowhere]
    # the registries come before the controller and their program is here: still nothing started
    assert_nothing_left(state)
    assert recorded_pids(state) == []


def test_the_api_alone_needs_no_system_program(installed_sandbox: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = user_env(PATH=str(installed_sandbox))
    try:
        run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "up", "--no-controller"], env=env, cwd=tmp_path)
        status = run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "status"], env=env, cwd=tmp_path)
        assert "api          running pid" in status.stdout
        pids = recorded_pids(state)
    finally:
        run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "down"], env=env, cwd=tmp_path)
    assert_nothing_left(state, pids)


def test_a_variable_naming_a_binary_elsewhere_is_what_the_sandbox_runs(installed_sandbox: Path,
                                                                       tmp_path: Path) -> None:
    """qemu-img only through DVP_SANDBOX_QEMU_IMG (a wrapper that logs each call): the controller's seeding
    runs it, in a process the supervisor started."""
    real = shutil.which("qemu-img")
    if real is None:
        pytest.skip("qemu-img is not installed here")
    path = _only_these_programs(tmp_path / "path", ["docker-registry", "xorriso"])
    calls = tmp_path / "calls.log"
    wrapper = tmp_path / "opt" / "my-qemu-img"
    wrapper.parent.mkdir()
    wrapper.write_text('#!/bin/sh\necho "$@" >> %s\nexec %s "$@"\n' % (calls, real))
    wrapper.chmod(0o755)
    state = tmp_path / "state"
    env = user_env(PATH="%s:%s" % (installed_sandbox, path), DVP_SANDBOX_QEMU_IMG=str(wrapper))
    pids: List[int] = []
    try:
        run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "up", "--seed"], env=env, cwd=tmp_path,
            timeout=240)
        pids = recorded_pids(state)
        made = sorted(p.name for p in (state / "www").iterdir())
    finally:
        run([installed_sandbox / "dvp-sandbox", "--state-dir", state, "down"], env=env, cwd=tmp_path)
    assert_nothing_left(state, pids)
    assert {"disk.qcow2", "disk.raw", "disk.vmdk", "disk.vdi", "cd.iso"} <= set(made), made
    created = [line.split() for line in calls.read_text().splitlines() if line.startswith("create")]
    assert sorted(argv[3] for argv in created) == ["qcow2", "raw", "vdi", "vmdk"], created
