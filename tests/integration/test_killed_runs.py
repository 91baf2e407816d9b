"""Runs killed with SIGKILL at random points (seeded: CHAOS_SEED) converge on the next run, without a human.

- Catalog seeding (namespaced, fan-out through hub ClusterVirtualImages, prune) killed while planning, creating,
  with the fan-out half done, waiting, pruning: the next run ends with every image Ready, no duplicate, no orphan
  (every image has its owner label, no hub that no image uses, no pull Secret without its image), and a third
  run writes nothing.
- An upload killed mid-stream (at a chosen byte, through a throttling proxy) or after its last byte: the next
  run recreates and uploads; nothing half-made is left.
- A catalog track (keep) killed while importing a vendor's new build: after creating the new version, after
  half moving the newest label, while deleting the old version; the next run leaves only the new version, Ready
  and labelled newest, and a third run writes nothing.
- A capture with stop_vm killed after the VM was stopped and before it was started: the next run finishes and
  starts the VM again (restoring a runPolicy it switched), from the mark left on the VM before it was stopped;
  a VM the user stopped stays stopped.

`make test` kills each scenario at one point; `make chaos` (marker slow) at several. Each records what it
checked and the seed; conftest.py prints them in a "kill-at-random" section at the end of the session.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import pytest
from killing import REPORT_PROPERTY, Killer, Point, Report, ThrottledProxy, Trigger, audited, rng_for

API = "virtualization.deckhouse.io/v1alpha2"
APPLY = "deckhouse.virtualization.image_catalog_apply"
VI_MOD = "deckhouse.virtualization.virtual_image"
CAPTURE = "deckhouse.virtualization.virtual_image_capture"
CATALOG_LABEL = "virtualization.deckhouse.io/ansible-catalog"
FANOUT_LABEL = "virtualization.deckhouse.io/ansible-catalog-fanout"
OWNED_SECRET_LABEL = "virtualization.deckhouse.io/ansible-owned"
UPLOAD_RECORD = "virtualization.deckhouse.io/ansible-upload-checksum"
STOPPED_BY = "virtualization.deckhouse.io/ansible-stopped-by"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
IMPORT_RATE = 1024 * 1024  # bytes/s the file server sends each source at: imports take a few seconds
CATALOG_PHASES = ("planning", "creating", "fan-out half done", "waiting", "pruning")


def _writes(sandbox: Any) -> List[str]:
    return ["%s %s %s" % (a["method"], a.get("resource"), a.get("name") or "") for a in sandbox.audit()
            if a.get("user") == "admin" and a.get("method") in WRITES and a.get("code", 500) < 400]


def _items(kube: Any, kind: str, namespace: Optional[str]) -> List[Dict[str, Any]]:
    return kube.api(kind).get(namespace=namespace).to_dict()["items"]


def _after_kill(play: Any, sandbox: Any, tasks: List[Dict[str, Any]], register: str) -> Dict[str, Any]:
    """The next run (must converge), then a third (must write nothing); the checks they passed, as printed."""
    second = play([dict(task, register=register + "_next") for task in tasks])
    assert second.rc == 0, second.fatal() or second.stdout[-3000:]
    sandbox.clear_audit()
    third = play([dict(task, register=register + "_third") for task in tasks])
    assert third.rc == 0, third.fatal() or third.stdout[-3000:]
    assert third[register + "_third"]["changed"] is False, third[register + "_third"]
    assert _writes(sandbox) == [], _writes(sandbox)
    return second[register + "_next"]


# -- catalog seeding -------------------------------------------------------------------------------------------
def _catalog_task(namespace: str, catalog: str, sources: Dict[str, str], names: List[str]) -> Dict[str, Any]:
    images = [{"name": name, "url": "%s?rate=%d&n=%s" % (sources["raw"], IMPORT_RATE, name)} for name in names]
    return {APPLY: {"namespaces": [namespace], "catalog": catalog, "images": images, "fanout": "cluster",
                    "prune": True, "wait_timeout": 180}, "register": "catalog"}


def _catalog_points(sandbox: Any, rng: Any, phases: List[str], images: int) -> List[Point]:
    points = []
    for phase in phases:
        if phase == "planning":
            trigger = audited(sandbox, "GET", "virtualimages", 1, verb="list")
        elif phase == "creating":
            trigger = audited(sandbox, "POST", "virtualimages", rng.randint(1, images - 1))
        elif phase == "fan-out half done":
            trigger = audited(sandbox, "POST", "clustervirtualimages", rng.randint(1, images - 1))
        elif phase == "waiting":
            trigger = audited(sandbox, "POST", "virtualimages", images)
        else:
            trigger = audited(sandbox, "DELETE", "virtualimages", rng.randint(1, 2))
        delay = round(rng.uniform(0.3, 1.5), 2) if phase == "waiting" else round(rng.uniform(0.0, 0.05), 3)
        points.append(Point(phase, trigger, delay))
    return points


def _check_catalog(kube: Any, namespace: str, catalog: str, names: List[str], result: Dict[str, Any]) -> List[str]:
    vis = _items(kube, "VirtualImage", namespace)
    assert sorted(vi["metadata"]["name"] for vi in vis) == sorted(names), [vi["metadata"]["name"] for vi in vis]
    assert all(vi["status"]["phase"] == "Ready" for vi in vis), [(vi["metadata"]["name"], vi["status"]) for vi in vis]
    assert all(vi["metadata"]["labels"].get(CATALOG_LABEL) == catalog for vi in vis)
    used = {vi["spec"]["dataSource"]["objectRef"]["name"] for vi in vis}
    hubs = [cvi for cvi in _items(kube, "ClusterVirtualImage", None)
            if (cvi["metadata"].get("labels") or {}).get(FANOUT_LABEL) == catalog]
    assert sorted(cvi["metadata"]["name"] for cvi in hubs) == sorted(used)
    assert all(cvi["status"]["phase"] == "Ready" for cvi in hubs)
    secrets = kube.k8s.resources.get(api_version="v1", kind="Secret").get(namespace=namespace).to_dict()["items"]
    owned = [s["metadata"]["name"] for s in secrets if OWNED_SECRET_LABEL in (s["metadata"].get("labels") or {})
             and not s["metadata"].get("ownerReferences")]
    assert owned == [], owned
    assert result["failed_images"] == []
    label = "%s=%s" % (CATALOG_LABEL, catalog)
    return ["next run: all %d images Ready, no duplicate, every one labelled %s" % (len(names), label),
            "fan-out: %d hub ClusterVirtualImages, each used, Ready; none left unused" % len(hubs),
            "no pull Secret without its image",
            "third run: changed false, no write in the audit"]


def _remove(kube: Any, namespace: str, catalog: str) -> None:
    """The point's namespace and the catalog's hubs (cluster-wide: later tests snapshot every CVI), once gone."""
    kube.k8s.resources.get(api_version="v1", kind="Namespace").delete(name=namespace)
    hubs = [cvi["metadata"]["name"] for cvi in _items(kube, "ClusterVirtualImage", None)
            if (cvi["metadata"].get("labels") or {}).get(FANOUT_LABEL) == catalog]
    for name in hubs:
        kube.api("ClusterVirtualImage").delete(name=name)
    kube.poll("the hubs of %s gone" % catalog, lambda: not any(
        cvi["metadata"]["name"] in hubs for cvi in _items(kube, "ClusterVirtualImage", None)))


def _catalog_scenario(play: Any, sandbox: Any, kube: Any, namespace: str, sources: Dict[str, str],
                      phases: List[str], record_property: Any) -> None:
    rng = rng_for("catalog")
    names = ["kc-a", "kc-b", "kc-c"]
    report = Report("catalog seeding (3 images, fan-out cluster, prune)")
    try:
        for index, point in enumerate(_catalog_points(sandbox, rng, phases, len(names))):
            catalog = "kill%d-%s" % (index, namespace[-10:])
            ns = "%s-%d" % (namespace, index)
            kube.k8s.resources.get(api_version="v1", kind="Namespace").create(
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            task = _catalog_task(ns, catalog, sources, names)
            if point.phase == "pruning":  # seed two more first: the killed run prunes them
                seeded = play([_catalog_task(ns, catalog, sources, names + ["kc-d", "kc-e"])])
                assert seeded.rc == 0, seeded.fatal()
            sandbox.clear_audit()
            killer = Killer(point)
            play([task], until=killer)
            result = _after_kill(play, sandbox, [task], "catalog")
            report.add(point, killer, _check_catalog(kube, ns, catalog, names, result))
            _remove(kube, ns, catalog)
    finally:
        record_property(REPORT_PROPERTY, report.text())


def test_killed_catalog_seeding_converges(play, sandbox, kube, namespace, sources, record_property):
    _catalog_scenario(play, sandbox, kube, namespace, sources, [rng_for("catalog-pick").choice(CATALOG_PHASES)],
                      record_property)


@pytest.mark.slow
def test_killed_catalog_seeding_converges_at_every_phase(play, sandbox, kube, namespace, sources, record_property):
    _catalog_scenario(play, sandbox, kube, namespace, sources, list(CATALOG_PHASES), record_property)


# -- track rotation ----------------------------------------------------------------------------------------------
TRACK_PHASES = ("new version created", "label half moved", "rotating")
TRACK_LABEL = "virtualization.deckhouse.io/ansible-catalog-track"
NEWEST_LABEL = "virtualization.deckhouse.io/ansible-catalog-newest"


def _track_point(sandbox: Any, rng: Any, phase: str) -> Point:
    if phase == "new version created":
        trigger = audited(sandbox, "POST", "virtualimages", 1)
    elif phase == "label half moved":
        trigger = audited(sandbox, "PATCH", "virtualimages", 1)
    else:
        trigger = audited(sandbox, "DELETE", "virtualimages", 1)
    return Point(phase, trigger, round(rng.uniform(0.0, 0.05), 3))


def _track_scenario(play: Any, sandbox: Any, kube: Any, namespace: str, phases: List[str],
                    record_property: Any) -> None:
    """A track with keep: 1 whose vendor publishes a new build; the run importing it is killed."""
    from test_golden_tracks import Mirror
    rng = rng_for("tracks")
    report = Report("track rotation (keep 1, a new build published)")
    try:
        for index, phase in enumerate(phases):
            point = _track_point(sandbox, rng, phase)
            ns = "%s-t%d" % (namespace, index)
            kube.k8s.resources.get(api_version="v1", kind="Namespace").create(
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            mirror = Mirror(sandbox, "kill-%s" % ns)
            task = {APPLY: {"namespaces": [ns], "catalog": "gold", "wait_timeout": 120, "images": [
                {"name": "os", "url": mirror.url, "checksum": {"sha256": mirror.sums_url}, "keep": 1}]},
                "register": "track"}
            old = "os-%s" % mirror.publish(1)[:12]
            seeded = play([task])
            assert seeded.rc == 0, seeded.fatal()
            new = "os-%s" % mirror.publish(2)[:12]
            sandbox.clear_audit()
            killer = Killer(point)
            play([task], until=killer)
            result = _after_kill(play, sandbox, [task], "track")
            versions = [vi for vi in _items(kube, "VirtualImage", ns)
                        if (vi["metadata"].get("labels") or {}).get(TRACK_LABEL) == "os"]
            assert [vi["metadata"]["name"] for vi in versions] == [new], [vi["metadata"]["name"] for vi in versions]
            assert versions[0]["status"]["phase"] == "Ready"
            assert versions[0]["metadata"]["labels"].get(NEWEST_LABEL) == "true"
            assert result["failed_images"] == [] and old not in str(result["tracks"][0]["kept"])
            report.add(point, killer, ["next run: only %s left, Ready, carrying the newest label" % new,
                                       "%s (the old build) deleted, nothing kept" % old,
                                       "third run: changed false, no write in the audit"])
            kube.k8s.resources.get(api_version="v1", kind="Namespace").delete(name=ns)
    finally:
        record_property(REPORT_PROPERTY, report.text())


def test_killed_track_rotation_converges(play, sandbox, kube, namespace, record_property):
    _track_scenario(play, sandbox, kube, namespace, [rng_for("tracks-pick").choice(TRACK_PHASES)], record_property)


@pytest.mark.slow
def test_killed_track_rotation_converges_at_every_point(play, sandbox, kube, namespace, record_property):
    _track_scenario(play, sandbox, kube, namespace, list(TRACK_PHASES), record_property)


# -- upload ------------------------------------------------------------------------------------------------------
UPLOAD_SIZE = 24 * 1024 * 1024
UPLOAD_RATE = 8 * 1024 * 1024  # bytes/s through the proxy: the stream lasts about three seconds


def _upload_points(rng: Any, proxy: ThrottledProxy, count: int, ends: bool) -> List[Point]:
    """``count`` points mid-stream; with ``ends`` also right after the last byte and after the server's answer."""
    offsets = sorted(rng.randint(1024 * 1024, UPLOAD_SIZE - 1024 * 1024) for _index in range(count))
    points = [Point("mid-stream", Trigger("%d of %d bytes through the proxy" % (offset, UPLOAD_SIZE),
                                          lambda offset=offset: proxy.passed >= offset), 0.0) for offset in offsets]
    if ends:
        points.append(Point("after the last byte", Trigger("%d of %d bytes through the proxy" % (
            UPLOAD_SIZE, UPLOAD_SIZE), lambda: proxy.passed >= UPLOAD_SIZE), 0.0))
        points.append(Point("after the server's answer", Trigger(
            "the upload server answered (the answer held back from the module)", proxy.answered.is_set), 0.0))
    return points


def _upload_scenario(play: Any, sandbox: Any, kube: Any, namespace: str, tmp_path: Path, count: int,
                     last_byte: bool, record_property: Any) -> None:
    disk = tmp_path / "disk.raw"
    with open(disk, "wb") as stream:
        stream.write(hashlib.sha256(namespace.encode()).digest() * (UPLOAD_SIZE // 32))
    sha1 = hashlib.sha1(disk.read_bytes()).hexdigest()
    state = {"name": ""}

    def upstream() -> Any:
        image = kube.get("VirtualImage", namespace, state["name"]) or {}
        url = urlsplit(((image.get("status") or {}).get("imageUploadURLs") or {})["inCluster"])
        return url.hostname, url.port

    proxy = ThrottledProxy(upstream, UPLOAD_RATE)
    report = Report("upload of %d MiB through a throttled proxy" % (UPLOAD_SIZE >> 20))
    try:
        for index, point in enumerate(_upload_points(rng_for("upload"), proxy, count, last_byte)):
            state["name"] = "up-%d" % index
            task = {VI_MOD: {"name": state["name"], "namespace": namespace, "wait_timeout": 120,
                             "source": {"upload": {"path": str(disk), "upload_url": proxy.url}}}, "register": "up"}
            proxy.arm(hold_answer=point.phase == "after the server's answer")
            killer = Killer(point)
            play([task], until=killer)
            proxy.arm()
            killed = kube.get("VirtualImage", namespace, state["name"]) or {}
            result = _after_kill(play, sandbox, [task], "up")
            image = kube.get("VirtualImage", namespace, state["name"]) or {}
            record = json.loads(image["metadata"]["annotations"][UPLOAD_RECORD])
            assert result["phase"] == "Ready" and image["status"]["phase"] == "Ready", result.get("msg")
            assert record == {"sha1": sha1, "size": UPLOAD_SIZE}, record
            names = [vi["metadata"]["name"] for vi in _items(kube, "VirtualImage", namespace)]
            assert names.count(state["name"]) == 1
            report.add(point, killer, [
                "the killed run left the image %s" % ((killed.get("status") or {}).get("phase") or "without a phase"),
                "next run: %s, Ready, recording sha1 and size of the file" % (
                    "recreated it and uploaded %d bytes" % result["bytes"] if result.get("bytes")
                    else "sent nothing, recorded what the killed run had sent"),
                "one image of that name, nothing half-made",
                "third run: changed false, no write in the audit"])
    finally:
        proxy.close()
        record_property(REPORT_PROPERTY, report.text())


def test_killed_upload_converges(play, sandbox, kube, namespace, tmp_path, record_property):
    _upload_scenario(play, sandbox, kube, namespace, tmp_path, 1, False, record_property)


@pytest.mark.slow
def test_killed_upload_converges_at_several_bytes_and_after_the_last(
        play, sandbox, kube, namespace, tmp_path, record_property):
    _upload_scenario(play, sandbox, kube, namespace, tmp_path, 3, True, record_property)


# -- capture with stop_vm ----------------------------------------------------------------------------------------
CAPTURE_PHASES = ("VM stopped", "image being made", "AlwaysOn switched off", "Start issued")


def _capture_points(sandbox: Any, kube: Any, namespace: str, rng: Any, phases: List[str]) -> List[Point]:
    points = []
    for index, phase in enumerate(phases):
        vm = "web-%d" % index
        if phase in ("VM stopped", "AlwaysOn switched off"):
            trigger = Trigger("VirtualMachine %s Stopped" % vm,
                              lambda vm=vm: kube.vm_phase(namespace, vm) == "Stopped")
        elif phase == "image being made":
            trigger = audited(sandbox, "POST", "virtualimages", 1)
        else:
            trigger = audited(sandbox, "POST", "virtualmachineoperations", 2)  # the Stop, then the Start
        delay = 0.0 if phase == "Start issued" else round(rng.uniform(0.0, 0.3), 2)
        points.append(Point(phase, trigger, delay))
    return points


def _stop_by_user(kube: Any, namespace: str, vm: str) -> None:
    kube.api("VirtualMachineOperation").create(namespace=namespace, body={
        "apiVersion": API, "kind": "VirtualMachineOperation", "metadata": {"name": vm + "-user-stop"},
        "spec": {"type": "Stop", "virtualMachineName": vm}})
    kube.poll("VM %s Stopped by its user" % vm, lambda: kube.vm_phase(namespace, vm) == "Stopped")


def _capture_scenario(play: Any, sandbox: Any, kube: Any, namespace: str, phases: List[str],
                      record_property: Any) -> None:
    rng = rng_for("capture")
    report = Report("capture with stop_vm (a VM mounting the disk, and one its user stopped)")
    try:
        for index, point in enumerate(_capture_points(sandbox, kube, namespace, rng, phases)):
            web, idle = "web-%d" % index, "idle-%d" % index
            policy = "AlwaysOn" if point.phase == "AlwaysOn switched off" else "AlwaysOnUnlessStoppedManually"
            kube.make_disk(namespace, "root-%d" % index)
            kube.make_disk(namespace, "spare-%d" % index)
            kube.make_vm(namespace, web, "root-%d" % index, policy)
            kube.make_vm(namespace, idle, "spare-%d" % index, "AlwaysOnUnlessStoppedManually")
            _stop_by_user(kube, namespace, idle)
            task = {CAPTURE: {"namespace": namespace, "disk": "root-%d" % index, "name": "img-%d" % index,
                              "stop_vm": True, "allow_run_policy_change": policy == "AlwaysOn",
                              "wait_timeout": 120}, "register": "capture"}
            sandbox.clear_audit()
            killer = Killer(point)
            play([task], until=killer)
            left = kube.get("VirtualMachine", namespace, web) or {}
            result = _after_kill(play, sandbox, [task], "capture")
            vm = kube.get("VirtualMachine", namespace, web) or {}
            assert result["phase"] == "Ready", result
            assert vm["status"]["phase"] == "Running" and vm["spec"]["runPolicy"] == policy, vm["status"]
            assert STOPPED_BY not in (vm["metadata"].get("annotations") or {})
            assert kube.vm_phase(namespace, idle) == "Stopped"
            assert STOPPED_BY not in ((kube.get("VirtualMachine", namespace, idle) or {})["metadata"].get(
                "annotations") or {})
            report.add(point, killer, [
                "the killed run left %s %s, runPolicy %s, %s" % (
                    web, (left.get("status") or {}).get("phase"), (left.get("spec") or {}).get("runPolicy"),
                    "marked" if STOPPED_BY in (left["metadata"].get("annotations") or {}) else "unmarked"),
                "next run: image Ready, %s Running again with runPolicy %s, mark removed" % (web, policy),
                "%s, stopped by its user, still Stopped and never marked" % idle,
                "third run: changed false, no write in the audit"])
    finally:
        record_property(REPORT_PROPERTY, report.text())


def test_killed_capture_converges_and_starts_the_vm_again(play, sandbox, kube, namespace, record_property):
    _capture_scenario(play, sandbox, kube, namespace, [rng_for("capture-pick").choice(CAPTURE_PHASES[:3])],
                      record_property)


@pytest.mark.slow
def test_killed_capture_converges_at_every_point(play, sandbox, kube, namespace, record_property):
    _capture_scenario(play, sandbox, kube, namespace, list(CAPTURE_PHASES), record_property)
