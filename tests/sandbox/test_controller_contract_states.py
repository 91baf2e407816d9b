"""The contract states the platform's code shows and the contract text left out or got wrong:

- a quota refusal is Failed but not final (vi/cvi source handlers, setQuotaExceededPhaseCondition);
- an importer Pod that is not scheduled: Failed with Ready reason ProvisioningNotStarted, not final;
- the Terminating condition (development line only: vi/internal/deletion.go on main) with reason
  CleanupPending while auxiliary resources go, and none while a VM holds the image.

The session sandbox serves DVP_SANDBOX_PLATFORM's line (dev by default); expectations follow it.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from _controller_support import Api, Recorder, api, cond, http_source, seeded, unique, vi, vis  # noqa: F401
from sandbox.handle import Sandbox

FAST_QUOTA = {"sandbox.deckhouse.io/quota-exceeded": "compute", "sandbox.deckhouse.io/quota-grace": "4",
              "sandbox.deckhouse.io/quota-retry": "1"}


def _ready_reason(obj: dict) -> tuple[str, str]:
    c = cond(obj, "Ready") or {}
    return c.get("reason", ""), c.get("message", "")


def test_quota_exceeded_is_failed_but_retried(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                              seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "quota", http_source(f"{http}/disk.qcow2"), annotations=dict(FAST_QUOTA)))
    first = vis.wait("quota", lambda o: _ready_reason(o)[1].startswith("Quota exceeded"), 30, "quota")
    uid = first["metadata"]["uid"]
    error = (f'pods "d8v-vi-importer-{uid}" is forbidden: exceeded quota: compute, requested: pods=1, '
             "used: pods=0, limited: pods=0")
    assert first["status"]["phase"] == "Failed"
    assert _ready_reason(first) == (
        "ProvisioningFailed",
        f"Quota exceeded: {error}; Please configure quotas or try recreating the resource later.")
    assert cond(first, "Ready")["status"] == "False" and cond(first, "DatasourceReady")["status"] == "True"
    later = vis.wait("quota", lambda o: _ready_reason(o)[1].endswith("; Retry in 1 minute."), 30, "retrying")
    assert _ready_reason(later) == ("ProvisioningFailed", f"Quota exceeded: {error}; Retry in 1 minute.")
    events = [e for e in api.events(namespace) if e["involvedObject"]["name"] == "quota"]
    assert any(e["reason"] == "DataSourceQuotaExceed" and e["message"] == "DataSource quota exceed"
               and e["type"] == "Warning" for e in events)
    api.patch("VirtualImage", namespace, "quota",
              {"metadata": {"annotations": {"sandbox.deckhouse.io/quota-exceeded": None}}})
    assert vis.wait_phase("quota", "Ready", 60)["status"]["progress"] == "100%"


def test_unschedulable_importer_is_not_started_and_resumes(sandbox: Any, api: Api, namespace: str,
                                                           vis: Recorder, seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    why = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector"
    api.create(vi(namespace, "nosched", http_source(f"{http}/disk.raw.xz"),
                  annotations={"sandbox.deckhouse.io/unschedulable": why}))
    held = vis.wait("nosched", lambda o: _ready_reason(o)[0] == "ProvisioningNotStarted", 30, "not started")
    uid = held["metadata"]["uid"]
    assert held["status"]["phase"] == "Failed"
    assert _ready_reason(held)[1] == (f"Provisioning Pod {namespace}/d8v-vi-importer-{uid} is not scheduled: "
                                      f"{why}.")
    api.patch("VirtualImage", namespace, "nosched",
              {"metadata": {"annotations": {"sandbox.deckhouse.io/unschedulable": None}}})
    vis.wait_phase("nosched", "Ready", 60)


def test_cleanup_pending_while_the_pvc_is_held(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                               seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "held", http_source(f"{http}/disk.vdi"), storage="PersistentVolumeClaim"))
    obj = vis.wait_phase("held", "Ready", 60)
    pvc = obj["status"]["target"]["persistentVolumeClaimName"]
    api.patch("PersistentVolumeClaim", namespace, pvc, {"metadata": {"finalizers": ["example.com/hold"]}})
    api.delete("VirtualImage", namespace, "held")
    if sandbox.platform == "dev":
        term = vis.wait("held", lambda o: cond(o, "Terminating") is not None, 30, "Terminating condition")
        c = cond(term, "Terminating")
        assert (c["status"], c["reason"]) == ("True", "CleanupPending")
        assert c["message"] == f'Waiting for the PersistentVolumeClaim "{namespace}/{pvc}" to be deleted.'
        assert c["observedGeneration"] == term["metadata"]["generation"]
    else:   # v1.10.2 has no Terminating condition: only the phase says it
        term = vis.wait_phase("held", "Terminating", 30)
        assert cond(term, "Terminating") is None
    assert term["status"]["phase"] == "Terminating"
    assert api.get("VirtualImage", namespace, "held") is not None
    api.patch("PersistentVolumeClaim", namespace, pvc, {"metadata": {"finalizers": None}})
    vis.wait_gone("held", 30)


def test_cleanup_pending_while_the_importer_pod_goes(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                     seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "slowpod", http_source(f"{http}/disk.vdi"),
                  annotations={"sandbox.deckhouse.io/cleanup-delay": "3"}))
    obj = vis.wait_phase("slowpod", "Ready", 60)
    api.delete("VirtualImage", namespace, "slowpod")
    if sandbox.platform == "dev":
        term = vis.wait("slowpod", lambda o: cond(o, "Terminating") is not None, 30, "Terminating condition")
        assert cond(term, "Terminating")["message"] == (
            f'Waiting for the importer Pod "{namespace}/d8v-vi-importer-{obj["metadata"]["uid"]}" to be deleted.')
    vis.wait_gone("slowpod", 30)


def test_in_use_deletion_has_no_terminating_condition(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                      seeded: Path) -> None:
    """While a VM holds the image (vi-protection), InUse explains the wait, not Terminating."""
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "used", http_source(f"{http}/cd.iso")))
    vis.wait_phase("used", "Ready", 60)
    api.create({"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualMachine",
                "metadata": {"name": "vm", "namespace": namespace},
                "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOn", "cpu": {"cores": 1},
                         "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualImage", "name": "used"}]}})
    vis.wait("used", lambda o: (cond(o, "InUse") or {}).get("status") == "True", 30, "InUse")
    api.delete("VirtualImage", namespace, "used")
    term = vis.wait_phase("used", "Terminating", 30)
    assert cond(term, "Terminating") is None and cond(term, "InUse")["reason"] == "AttachedToVirtualMachine"
    api.patch("VirtualMachine", namespace, "vm", {"spec": {"runPolicy": "AlwaysOff"}})
    vis.wait_gone("used", 30)


@pytest.fixture(scope="module")
def v110(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A full sandbox (controller included) serving the released line v1.10."""
    sb = Sandbox(tmp_path_factory.mktemp("v110-sandbox"))
    try:
        sb.up(platform="v1.10")
        yield sb
    finally:
        sb.down()


def test_v110_deletion_shows_no_terminating_condition(v110: Any) -> None:
    api = Api(v110)
    ns = unique("v110")
    api.req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    (v110.state_dir / "www").mkdir(exist_ok=True)
    (v110.state_dir / "www" / "tiny.img").write_bytes(b"\0" * 65536)
    rec = Recorder(api, "VirtualImage", ns)
    try:
        http = v110.components["fileserver"]["http_url"]
        api.create(vi(ns, "held", http_source(f"{http}/tiny.img"), storage="PersistentVolumeClaim"))
        obj = rec.wait_phase("held", "Ready", 60)
        pvc = obj["status"]["target"]["persistentVolumeClaimName"]
        api.patch("PersistentVolumeClaim", ns, pvc, {"metadata": {"finalizers": ["example.com/hold"]}})
        api.delete("VirtualImage", ns, "held")
        term = rec.wait_phase("held", "Terminating", 30)
        time.sleep(1.5)       # the controller had its chance to add one
        assert all(cond(o, "Terminating") is None for o in rec.history("held"))
        assert api.get("VirtualImage", ns, "held") is not None
        api.patch("PersistentVolumeClaim", ns, pvc, {"metadata": {"finalizers": None}})
        rec.wait_gone("held", 30)
        assert term["status"]["phase"] == "Terminating"
    finally:
        rec.stop()
        api.delete("Namespace", None, ns)
