"""Who uses an image, on both platform lines: what holds a VirtualImage / ClusterVirtualImage against deletion,
what its InUse condition says, and that `status.usedInNamespaces` stays empty (the platform never writes it).

Followed: deckhouse/virtualization `images/virtualization-artifact/pkg/controller/{vi,cvi}/internal/attachee.go`
and `deletion.go` (v1.10.2 and main), `pkg/common/vm/vm.go` (main: MountedVirtualMachineNames),
`pkg/controller/service/inuse.go` (main).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from _controller_support import GROUP, Api, Recorder, cond, cvi, http_source, need_controller, unique, vi

from sandbox.controller.model.status import in_use_message

PROTECT = {"VirtualImage": "virtualization.deckhouse.io/vi-protection",
           "ClusterVirtualImage": "virtualization.deckhouse.io/cvi-protection"}
CLEANUP = {"VirtualImage": "virtualization.deckhouse.io/vi-cleanup",
           "ClusterVirtualImage": "virtualization.deckhouse.io/cvi-cleanup"}


@pytest.fixture(scope="module")
def v110_full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A full sandbox (controller included) serving the released line v1.10."""
    from sandbox.handle import Sandbox
    sb = Sandbox(tmp_path_factory.mktemp("v110-usage"))
    try:
        sb.up(platform="v1.10")
        yield sb
    finally:
        sb.down()


@pytest.fixture(params=["session", "v1.10"])
def line(request: pytest.FixtureRequest) -> Any:
    """The session sandbox (its line: dev unless DVP_SANDBOX_PLATFORM says otherwise), then a v1.10 one."""
    if request.param == "session":
        sb = request.getfixturevalue("sandbox")
        need_controller(sb)
        return sb
    sb = request.getfixturevalue("v110_full")
    if request.getfixturevalue("sandbox").platform == "v1.10":
        pytest.skip("the session sandbox already serves v1.10")
    return sb


def _ns(api: Api) -> str:
    name = unique("use")
    api.req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def _tiny(sb: Any) -> str:
    www = Path(sb.state_dir) / "www"
    www.mkdir(exist_ok=True)
    (www / "usage.img").write_bytes(b"\1" * 65536)
    return f"{sb.components['fileserver']['http_url']}/usage.img"


def _vm(api: Api, ns: str, name: str, kind: str, image: str) -> None:
    """A VM booting from a blank disk of its own (a non-CD-ROM image may not come first) with the image second."""
    api.create({"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": {"name": f"{name}-root", "namespace": ns},
                "spec": {"persistentVolumeClaim": {"size": "8Mi"}}})
    api.create({"apiVersion": GROUP, "kind": "VirtualMachine", "metadata": {"name": name, "namespace": ns},
                "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOn", "cpu": {"cores": 1},
                         "memory": {"size": "1Gi"}, "blockDeviceRefs": [
                             {"kind": "VirtualDisk", "name": f"{name}-root"}, {"kind": kind, "name": image}]}})


def _vd_from(ns: str, name: str, kind: str, image: str, sc: str | None = None) -> dict:
    pvc = {"storageClassName": sc} if sc else {}
    return {"apiVersion": GROUP, "kind": "VirtualDisk", "metadata": {"name": name, "namespace": ns},
            "spec": {"persistentVolumeClaim": pvc,
                     "dataSource": {"type": "ObjectRef", "objectRef": {"kind": kind, "name": image}}}}


def _in_use(obj: dict) -> tuple[str, str, str] | None:
    c = cond(obj, "InUse")
    return (c["status"], c["reason"], c["message"]) if c else None


def _finalizers(obj: dict) -> list[str]:
    return obj["metadata"].get("finalizers") or []


def test_in_use_message_forms() -> None:
    """main's wording: one VM named with how to release it; several counted, listed last, bounded to 256."""
    assert in_use_message("VirtualImage", ["vm"]) == (
        'The VirtualImage is in use by the VirtualMachine "vm"; detach it or stop the VirtualMachine to release '
        "the VirtualImage.")
    assert in_use_message("ClusterVirtualImage", ["a/vm", "b/vm"]) == (
        "The ClusterVirtualImage is in use by 2 VirtualMachines; detach it or stop them to release the "
        'ClusterVirtualImage. In use by: "a/vm", "b/vm".')
    many = in_use_message("ClusterVirtualImage", [f"namespace-{i:02d}/machine-{i:02d}" for i in range(20)])
    assert len(many) <= 256 and many.endswith('" (truncated).')
    assert many.startswith("The ClusterVirtualImage is in use by 20 VirtualMachines; detach it or stop them")
    assert many.count('"') % 2 == 0       # whole names only


def test_cluster_image_used_by_vms_across_namespaces(line: Any) -> None:
    """A CVI is held by the VMs that mount it (status.blockDeviceRefs, not Stopped), in every namespace; a disk
    made or being made from it does not hold it; usedInNamespaces is never written. main reports the VMs in InUse;
    v1.10.2 has no InUse on images, and a deletion held there has already dropped the cleanup finalizer."""
    sb, api = line, Api(line)
    dev = sb.platform != "v1.10"
    name = unique("cvi-use")
    ns_a, ns_b = _ns(api), _ns(api)
    rec = Recorder(api, "ClusterVirtualImage", None)
    vms_a, vms_b = Recorder(api, "VirtualMachine", ns_a), Recorder(api, "VirtualMachine", ns_b)
    vds = Recorder(api, "VirtualDisk", ns_a)
    try:
        api.create(cvi(name, http_source(_tiny(sb))))
        ready = rec.wait_phase(name, "Ready", 60)
        assert _in_use(ready) == (("False", "NotInUse", "") if dev else None)
        # disks from it: one Ready, one waiting for its first consumer (being provisioned); neither uses it
        api.create(_vd_from(ns_a, "made", "ClusterVirtualImage", name))
        api.create(_vd_from(ns_a, "lazy", "ClusterVirtualImage", name, sc="local-path-wffc"))
        vds.wait_phase("made", "Ready", 60)
        vds.wait_phase("lazy", "WaitForFirstConsumer", 30)
        now = api.get("ClusterVirtualImage", None, name)
        assert PROTECT["ClusterVirtualImage"] not in _finalizers(now)
        assert _in_use(now) == (("False", "NotInUse", "") if dev else None)

        _vm(api, ns_b, "vm", "ClusterVirtualImage", name)
        _vm(api, ns_a, "vm", "ClusterVirtualImage", name)
        vms_a.wait_phase("vm", "Running", 60)
        vms_b.wait_phase("vm", "Running", 60)
        held = rec.wait(name, lambda o: PROTECT["ClusterVirtualImage"] in _finalizers(o)
                        and (not dev or "2 VirtualMachines" in ((_in_use(o) or ("", "", ""))[2])), 30, "held by 2")
        if dev:
            assert _in_use(held) == ("True", "AttachedToVirtualMachine", in_use_message(
                "ClusterVirtualImage", sorted([f"{ns_a}/vm", f"{ns_b}/vm"])))
        api.patch("VirtualMachine", ns_b, "vm", {"spec": {"runPolicy": "AlwaysOff"}})
        vms_b.wait_phase("vm", "Stopped", 30)
        if dev:
            one = rec.wait(name, lambda o: (_in_use(o) or ("",))[0] == "True" and "2 Virtual" not in _in_use(o)[2],
                           30, "one VM left")
            assert _in_use(one)[2] == (
                f'The ClusterVirtualImage is in use by the VirtualMachine "{ns_a}/vm"; detach it or stop the '
                "VirtualMachine to release the ClusterVirtualImage.")

        api.delete("ClusterVirtualImage", None, name)
        if dev:   # main: nothing is cleaned up while a VM holds it; InUse explains, no Terminating condition
            term = rec.wait(name, lambda o: (o.get("status") or {}).get("phase") == "Terminating", 30)
            assert set(_finalizers(term)) == {CLEANUP["ClusterVirtualImage"], PROTECT["ClusterVirtualImage"]}
            assert _in_use(term)[1] == "AttachedToVirtualMachine" and cond(term, "Terminating") is None
        else:     # v1.10.2: cleaned up at once, only the protection finalizer holds it
            term = rec.wait(name, lambda o: _finalizers(o) == [PROTECT["ClusterVirtualImage"]], 30, "cleaned")
            assert term["status"]["phase"] == "Terminating" and cond(term, "Terminating") is None
        assert api.get("ClusterVirtualImage", None, name) is not None
        api.patch("VirtualMachine", ns_a, "vm", {"spec": {"runPolicy": "AlwaysOff"}})
        rec.wait_gone(name, 30)

        seen = rec.history(name)
        assert not any("usedInNamespaces" in (o.get("status") or {}) for o in seen), json.dumps(seen[-1])
        if not dev:
            assert all(cond(o, "InUse") is None for o in seen)
    finally:
        for r in (rec, vms_a, vms_b, vds):
            r.stop()
        api.delete("ClusterVirtualImage", None, name)
        api.delete("Namespace", None, ns_a)
        api.delete("Namespace", None, ns_b)


def test_image_used_by_a_vm_of_its_namespace(line: Any) -> None:
    """A VI is held by a VM of its own namespace only while the VM mounts it; a stopped VM lets go."""
    sb, api = line, Api(line)
    dev = sb.platform != "v1.10"
    ns, other = _ns(api), _ns(api)
    rec, vms = Recorder(api, "VirtualImage", ns), Recorder(api, "VirtualMachine", ns)
    try:
        api.create(vi(ns, "img", http_source(_tiny(sb))))
        rec.wait_phase("img", "Ready", 60)
        # a VM of another namespace naming the same image name does not use it
        _vm(api, other, "vm", "VirtualImage", "img")
        _vm(api, ns, "vm", "VirtualImage", "img")
        vms.wait_phase("vm", "Running", 60)
        held = rec.wait("img", lambda o: PROTECT["VirtualImage"] in _finalizers(o), 30, "held")
        if dev:
            assert _in_use(held) == ("True", "AttachedToVirtualMachine", in_use_message("VirtualImage", ["vm"]))
        else:
            assert _in_use(held) is None
        api.patch("VirtualMachine", ns, "vm", {"spec": {"runPolicy": "AlwaysOff"}})
        # finalizers and status are separate writes: wait for both
        rec.wait("img", lambda o: PROTECT["VirtualImage"] not in _finalizers(o)
                 and _in_use(o) == (("False", "NotInUse", "") if dev else None), 30, "released")
        api.delete("VirtualImage", ns, "img")
        rec.wait_gone("img", 30)
    finally:
        rec.stop()
        vms.stop()
        api.delete("Namespace", None, ns)
        api.delete("Namespace", None, other)


def test_v110_checksum_mismatch_is_retried_then_reported(v110_full: Any) -> None:
    """v1.10.2's importer: a mismatch is retried (downloaded again) for the whole backoff, then reported wrapped;
    sums are compared as given (an upper-case sum never matches) and sha256 is checked before md5."""
    import hashlib
    import re

    import requests

    sb, api = v110_full, Api(v110_full)
    ns = _ns(api)
    rec = Recorder(api, "VirtualImage", ns)
    www = Path(sb.state_dir) / "www"
    www.mkdir(exist_ok=True)
    name = f"{ns}.img"
    data = b"\2" * 65536
    (www / name).write_bytes(data)
    url = f"{sb.components['fileserver']['http_url']}/{name}"
    sha, md5 = hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()
    quick = {"sandbox.deckhouse.io/retry-window": "1.5"}
    try:
        api.create(vi(ns, "wrong", http_source(url, checksum={"md5": "0" * 32, "sha256": "1" * 64}),
                      annotations=quick))
        api.create(vi(ns, "upper", http_source(url, checksum={"sha256": sha.upper()}), annotations=quick))
        for image, expected in (("wrong", "1" * 64), ("upper", sha.upper())):
            failed = rec.wait_phase(image, "Failed", 60)
            ready = cond(failed, "Ready")
            pod = f"{ns}/d8v-vi-importer-{failed['metadata']['uid']}"
            assert (ready["status"], ready["reason"]) == ("False", "ProvisioningFailed")
            assert re.fullmatch(
                re.escape(f"Provisioning failed: Pod {pod} termination message: no success after 20 attempts "
                          "within ") + r"\d+s" + re.escape(f", last attempt error: source streaming error: {sha} "
                                                            f"sum mismatch: sha256 != {expected}."),  # v1.10.2's order
                ready["message"]), ready["message"]
            assert "Provisioning" in [(h.get("status") or {}).get("phase") for h in rec.history(image)]
        session = requests.Session()
        session.trust_env = False
        stats = session.get(f"{sb.components['fileserver']['http_url']}/stats", timeout=10).json()
        assert stats["requests"][name] >= 4          # downloaded again and again, both images
        api.create(vi(ns, "right", http_source(url, checksum={"md5": md5, "sha256": sha})))
        assert rec.wait_phase("right", "Ready", 60)["status"]["phase"] == "Ready"
    finally:
        rec.stop()
        api.delete("Namespace", None, ns)
