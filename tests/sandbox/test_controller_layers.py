"""The controller's layers hold: leaf modules import nothing of the sandbox but other leaves, each reconciler module
holds one reconciler and reaches nothing but the narrow context pieces; the small shared pieces
(work queue, power wishes, imports in flight) behave as the reconcilers rely on.
"""
from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from sandbox.controller.imports.imagejob import ImageJob, ImageJobs
from sandbox.controller.model.power import Power
from sandbox.controller.runtime.workqueue import WorkQueue

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
LEAVES = ("config.py", "platform.py", "vmop_rules.py", "logsafe.py", "dvcr.py", "tools.py", "api/errors.py", "api/resources.py",
          "controller/model/kinds.py", "controller/model/status.py", "controller/model/settings.py",
          "controller/model/power.py", "controller/model/attachees.py", "controller/runtime/workqueue.py",
          "controller/imports/diskinfo.py", "controller/imports/streebog.py")
# The leaves a leaf may use (relative imports): diskinfo's checksums use streebog.py; both run system programs
# found through tools.py.
LEAF_USES = {"controller/imports/diskinfo.py": {".streebog", "...tools"},
             "controller/imports/streebog.py": {"...tools"}}
RECONCILERS = sorted((SANDBOX / "controller" / "reconcilers").glob("[!_]*.py"))


def _sandbox_imports(path: Path) -> set[str]:
    """Modules of the sandbox the file imports (relative imports, at any nesting level)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.module and node.level:   # from .. import tools
            out.update("." * node.level + a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("sandbox")):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("sandbox"))
    return out


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_nothing_of_the_sandbox(leaf: str) -> None:
    uses = LEAF_USES.get(leaf, set())
    assert _sandbox_imports(SANDBOX / leaf) == uses
    for name in uses:
        folder = Path(leaf).parents[len(name) - len(name.lstrip(".")) - 1]
        assert str(folder / (name.lstrip(".") + ".py")) in LEAVES, name


@pytest.mark.parametrize("path", RECONCILERS, ids=lambda p: p.stem)
def test_one_reconciler_per_file_that_never_sees_the_controller(path: Path) -> None:
    tree = ast.parse(path.read_text())
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert len(classes) == 1 and classes[0].endswith("Reconciler"), classes
    imported = _sandbox_imports(path)
    assert "..app" not in imported and not any(m.startswith(".") and m.count(".") == 1 for m in imported), imported


def test_there_is_a_reconciler_for_every_emulated_kind() -> None:
    assert [p.stem for p in RECONCILERS] == ["virtualdisk", "virtualdisksnapshot", "virtualimage",
                                            "virtualmachine", "virtualmachineoperation"]


def test_work_queue_runs_an_object_once_at_a_time_and_again_when_poked_meanwhile() -> None:
    async def main() -> list[tuple[str, str, str]]:
        queue, seen = WorkQueue(), []
        queue.bind(asyncio.get_running_loop())
        key = ("VirtualDisk", "ns", "d")

        async def handle(k: tuple[str, str, str]) -> None:
            seen.append(k)
            if len(seen) == 1:
                queue.poke(k)            # changed during its reconcile: must run once more, later
                await asyncio.sleep(0.05)

        queue.poke(key)
        queue.poke(key)                  # de-duplicated while queued
        workers = [asyncio.create_task(queue.work(handle)) for _ in range(2)]
        await asyncio.sleep(0.2)
        for w in workers:
            w.cancel()
        return seen

    assert asyncio.run(main()) == [("VirtualDisk", "ns", "d")] * 2


def test_wait_world_wakes_on_a_change() -> None:
    async def main() -> float:
        queue = WorkQueue()
        loop = asyncio.get_running_loop()
        start = loop.time()
        loop.call_later(0.05, queue.world_changed)
        await queue.wait_world(5.0)
        return loop.time() - start

    assert asyncio.run(main()) < 1.0


def _vm(policy: str | None, phase: str | None = None, uid: str = "u1") -> dict:
    return {"metadata": {"uid": uid}, "spec": {"runPolicy": policy} if policy else {},
            "status": {"phase": phase} if phase else {}}


@pytest.mark.parametrize("policy,phase,wants", [
    ("AlwaysOn", "Stopped", True), ("AlwaysOff", "Running", False),
    ("Manual", None, False), (None, None, True),
    ("Manual", "Running", True), ("AlwaysOnUnlessStoppedManually", "Stopped", False),
])
def test_power_follows_run_policy_then_the_phase_it_finds(policy: str | None, phase: str | None,
                                                          wants: bool) -> None:
    assert Power().wants_running(_vm(policy, phase)) is wants


def test_power_keeps_the_last_request_for_manual_policies() -> None:
    power = Power()
    assert power.wants_running(_vm("Manual", "Running")) is True
    power.wanted["u1"] = False                     # a Stop VMOP
    assert power.wants_running(_vm("Manual", "Running")) is False


def test_image_jobs_tell_which_objects_an_import_reads() -> None:
    jobs = ImageJobs()
    job = ImageJob(key=("VirtualImage", "ns", "vi"), uid="j1", generation=1, kind="VirtualImage")
    job.source_ref = ("VirtualDisk", "ns", "d")
    jobs[job.uid] = job
    for stage, reading in (("blocked", False), ("importing", True), ("ready", False)):
        job.stage = stage
        assert jobs.importing_from("VirtualDisk", "ns", "d") is reading
    assert not jobs.importing_from("VirtualDisk", "other", "d")
