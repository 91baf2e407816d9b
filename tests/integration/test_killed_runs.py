"""Runs killed with SIGKILL at random points (seeded: CHAOS_SEED) converge on the next run, without a human.

- Catalog seeding (namespaced, fan-out through hub ClusterVirtualImages, prune), followed in the same play by an
  image from the user registry with registry credentials (the module makes and owns its pull Secret; catalog
  entries take no credentials, only the name of a Secret), killed while planning, creating, with the fan-out half
  done, waiting, pruning, and right after the pull Secret was made: the next run ends with every image Ready, no
  duplicate, no orphan (every image has its owner label, no hub that no image uses, the one pull Secret owned by
  its image and no other), and a third run writes nothing.
- An upload killed mid-stream (at a chosen byte, through a throttling proxy) or after its last byte: the next
  run uploads again (into a new image when the killed one cannot take it) or, when the killed run's bytes were
  stored, only records them; nothing half-made is left.
- A catalog track (keep) killed while importing a vendor's new build: after creating the new version, after
  half moving the newest label, while deleting the old version; the next run leaves only the new version, Ready
  and labelled newest, and a third run writes nothing.
- A capture with stop_vm killed after the VM was stopped and before it was started: the next run finishes and
  starts the VM again (restoring a runPolicy it switched), from the mark left on the VM before it was stopped;
  a VM the user stopped stays stopped.
- ansible-playbook killed alone (its process group, as `kill -9` of the playbook does), in a capture and in a
  catalog: Ansible's workers run in sessions of their own, so the killed run's module goes on beside the re-run;
  the re-run converges all the same, and once the orphans end a third run writes nothing.

After every kill the repairing run is checked against what the kill left (killing.check_repair): an object
that was already right keeps its uid and gets no write; only what was missing is created and only what was not
right is changed. The labels and annotations read are the collection's own constants (killing.py imports them).

`make test` kills each scenario at one point; `make chaos` (marker slow) at several. Each records what it
checked and the seed; conftest.py prints them in a "kill-at-random" section at the end of the session.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

import pytest
from killing import (
    CATALOG_LABEL, FANOUT_LABEL, NEWEST_LABEL, NEWEST_VALUE, OWNED_SECRET_LABEL, REPORT_PROPERTY, STOPPED_BY,
    TRACK_LABEL, UPLOAD_RECORD, WRITES, Killer, Point, Report, ThrottledProxy, Trigger, audited, check_repair,
    rng_for, seen, writes_in,
)

API = "virtualization.deckhouse.io/v1alpha2"
APPLY = "deckhouse.virtualization.image_catalog_apply"
VI_MOD = "deckhouse.virtualization.virtual_image"
CAPTURE = "deckhouse.virtualization.virtual_image_capture"
IMPORT_RATE = 1024 * 1024  # bytes/s the file server sends each source at: imports take a few seconds
CATALOG_PHASES = ("planning", "creating", "fan-out half done", "waiting", "pruning", "pull Secret made")
ALONE = ", ansible-playbook alone"   # a phase ending so kills ansible-playbook's process group alone
CREDENTIALED = "kc-cred"   # the image with registry credentials: its module makes the pull Secret
# Seconds every API answer is held back during a killed catalog run: the modules send their writes within
# milliseconds of each other (all three creates, the Secret, the image and the Secret's owner), faster than a kill
# follows its trigger; held back, the kill lands where its point says (the report's "left" line shows what it left).
HELD = 0.2
# How long the processes a kill of ansible-playbook alone leaves running may take to end after the repair: their
# module's own wait_timeout, at most.
ORPHAN_TIMEOUT = 180.0
# Where the objects a repair may touch live: resource -> (apiVersion, kind, namespaced)
WATCHED = {"virtualimages": (API, "VirtualImage", True), "clustervirtualimages": (API, "ClusterVirtualImage", False),
           "virtualdisks": (API, "VirtualDisk", True), "virtualmachines": (API, "VirtualMachine", True),
           "virtualmachineoperations": (API, "VirtualMachineOperation", True), "secrets": ("v1", "Secret", True)}


def _writes(sandbox: Any) -> List[str]:
    return ["%s %s %s" % (a["method"], a.get("resource"), a.get("name") or "") for a in sandbox.audit()
            if a.get("user") == "admin" and a.get("method") in WRITES and a.get("code", 500) < 400]


def _items(kube: Any, kind: str, namespace: Optional[str]) -> List[Dict[str, Any]]:
    return kube.api(kind).get(namespace=namespace).to_dict()["items"]


def _objects(kube: Any, namespace: str) -> Callable[[], Dict[str, List[Dict[str, Any]]]]:
    """What a repair may touch: the namespace's objects of every WATCHED kind, and every ClusterVirtualImage."""
    def listing() -> Dict[str, List[Dict[str, Any]]]:
        return {resource: kube.k8s.resources.get(api_version=api, kind=kind).get(
            namespace=namespace if namespaced else None).to_dict()["items"]
            for resource, (api, kind, namespaced) in WATCHED.items()}
    return listing


class Repair(NamedTuple):
    """The repairing run: its results by register, what was checked (as printed), its writes."""

    results: Dict[str, Any]
    checks: List[str]
    writes: List[Tuple[str, Tuple[str, str, str]]]


def _after_kill(play: Any, sandbox: Any, tasks: List[Dict[str, Any]],
                objects: Callable[[], Dict[str, List[Dict[str, Any]]]], killer: Optional[Killer] = None) -> Repair:
    """The repairing run (must converge and write only what was missing: killing.check_repair against the objects
    the kill left), then a third (must write nothing).

    When the kill left the killed run's modules going on (``killer.orphans()``), the repair runs beside them and
    must converge all the same; the orphans are then waited out. What it wrote is not held against the objects
    the kill left then (the orphans write too, and the audit names the same user): the checks say so, and the
    third run, after the orphans ended, must still write nothing."""
    before = seen(objects())
    orphaned = bool(killer and killer.orphans())
    sandbox.clear_audit()
    second = play([dict(task, register=task["register"] + "_next") for task in tasks])
    assert second.rc == 0, second.fatal() or second.stdout[-3000:]
    audit = sandbox.audit()
    if orphaned:
        assert killer is not None
        waited = killer.wait_orphans(ORPHAN_TIMEOUT)
        checks = ["repair ran beside the killed run's orphaned module and converged; the orphans ended %.1fs after "
                  "it (its writes are not checked against what the kill left: the orphans wrote too)" % waited]
    else:
        checks = check_repair(before, seen(objects()), audit)
    sandbox.clear_audit()
    third = play([dict(task, register=task["register"] + "_third") for task in tasks])
    assert third.rc == 0, third.fatal() or third.stdout[-3000:]
    for task in tasks:
        assert third[task["register"] + "_third"]["changed"] is False, third[task["register"] + "_third"]
    assert _writes(sandbox) == [], _writes(sandbox)
    return Repair({task["register"]: second[task["register"] + "_next"] for task in tasks}, checks, writes_in(audit))


# -- catalog seeding -------------------------------------------------------------------------------------------
def _catalog_task(namespace: str, catalog: str, sources: Dict[str, str], names: List[str]) -> Dict[str, Any]:
    images = [{"name": name, "url": "%s?rate=%d&n=%s" % (sources["raw"], IMPORT_RATE, name)} for name in names]
    return {APPLY: {"namespaces": [namespace], "catalog": catalog, "images": images, "fanout": "cluster",
                    "prune": True, "wait_timeout": 180}, "register": "catalog"}


def _credentialed_task(namespace: str, registry_image: Dict[str, str]) -> Dict[str, Any]:
    """The image from the user registry with registry credentials: the module makes the pull Secret, then the
    image, then makes the image the Secret's owner."""
    creds = {"username": registry_image["username"], "password": registry_image["password"]}
    return {VI_MOD: {"name": CREDENTIALED, "namespace": namespace, "wait_timeout": 120, "source": {"container_image": {
        "image": registry_image["image"], "ca_bundle": registry_image["ca"], "registry_credentials": creds}}},
        "register": "cred"}


def _catalog_points(sandbox: Any, rng: Any, phases: List[str], images: int) -> List[Point]:
    points = []
    for phase in phases:
        if phase == "planning":
            trigger = audited(sandbox, "GET", "virtualimages", 1, verb="list")
        elif phase.startswith("creating"):
            trigger = audited(sandbox, "POST", "virtualimages", rng.randint(1, images - 1))
        elif phase == "fan-out half done":
            trigger = audited(sandbox, "POST", "clustervirtualimages", rng.randint(1, images - 1))
        elif phase == "waiting":
            trigger = audited(sandbox, "POST", "virtualimages", images)
        elif phase == "pruning":
            trigger = audited(sandbox, "DELETE", "virtualimages", rng.randint(1, 2))
        else:   # the catalog is done; the credentialed image's module has just made its pull Secret
            trigger = audited(sandbox, "POST", "secrets", 1)
        delay = round(rng.uniform(0.3, 1.5), 2) if phase == "waiting" else round(rng.uniform(0.0, 0.05), 3)
        if phase == "pull Secret made":
            delay = 0.0   # the image and the Secret's owner follow at once (HELD back each)
        points.append(Point(phase, trigger, delay, group_only=phase.endswith(ALONE)))
    return points


def _check_catalog(kube: Any, namespace: str, catalog: str, names: List[str], results: Dict[str, Any]) -> List[str]:
    vis = _items(kube, "VirtualImage", namespace)
    assert sorted(vi["metadata"]["name"] for vi in vis) == sorted(names + [CREDENTIALED]), [
        vi["metadata"]["name"] for vi in vis]
    assert all(vi["status"]["phase"] == "Ready" for vi in vis), [(vi["metadata"]["name"], vi["status"]) for vi in vis]
    cred = next(vi for vi in vis if vi["metadata"]["name"] == CREDENTIALED)
    listed = [vi for vi in vis if vi is not cred]
    assert all(vi["metadata"]["labels"].get(CATALOG_LABEL) == catalog for vi in listed)
    assert CATALOG_LABEL not in (cred["metadata"].get("labels") or {}), cred["metadata"]   # never claimed
    used = {vi["spec"]["dataSource"]["objectRef"]["name"] for vi in listed}
    hubs = [cvi for cvi in _items(kube, "ClusterVirtualImage", None)
            if (cvi["metadata"].get("labels") or {}).get(FANOUT_LABEL) == catalog]
    assert sorted(cvi["metadata"]["name"] for cvi in hubs) == sorted(used)
    assert all(cvi["status"]["phase"] == "Ready" for cvi in hubs)
    secrets = kube.k8s.resources.get(api_version="v1", kind="Secret").get(namespace=namespace).to_dict()["items"]
    owned = [s for s in secrets if OWNED_SECRET_LABEL in (s["metadata"].get("labels") or {})]
    pull = cred["spec"]["dataSource"]["containerImage"]["imagePullSecret"]["name"]
    assert [s["metadata"]["name"] for s in owned] == [pull], [s["metadata"] for s in owned]   # no other, no orphan
    owners = [(ref.get("kind"), ref.get("name"), ref.get("uid")) for ref in owned[0]["metadata"].get(
        "ownerReferences") or []]
    assert owners == [("VirtualImage", CREDENTIALED, cred["metadata"]["uid"])], owners
    assert owned[0]["metadata"]["annotations"][OWNED_SECRET_LABEL].endswith("/" + CREDENTIALED)
    assert results["catalog"]["failed_images"] == [] and results["cred"]["phase"] == "Ready", results
    label = "%s=%s" % (CATALOG_LABEL, catalog)
    return ["next run: all %d catalog images Ready, no duplicate, every one labelled %s" % (len(names), label),
            "fan-out: %d hub ClusterVirtualImages, each used, Ready; none left unused" % len(hubs),
            "pull Secret %s (label %s) owned by %s (its uid), the only owned Secret: none without its image"
            % (pull, OWNED_SECRET_LABEL, CREDENTIALED)]


def _left(kube: Any, namespace: str) -> str:
    """What the killed run left, as printed: images, and the pull Secret with or without its owner."""
    vis = [vi["metadata"]["name"] for vi in _items(kube, "VirtualImage", namespace)]
    secrets = [s for s in kube.k8s.resources.get(api_version="v1", kind="Secret").get(
        namespace=namespace).to_dict()["items"] if OWNED_SECRET_LABEL in (s["metadata"].get("labels") or {})]
    secret = ("no pull Secret" if not secrets else "the pull Secret %s" % (
        "owned by its image" if secrets[0]["metadata"].get("ownerReferences") else "without an owner"))
    return "the killed run left %d images (%s) and %s" % (len(vis), ", ".join(sorted(vis)) or "none", secret)


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
                      registry_image: Dict[str, str], phases: List[str], record_property: Any) -> None:
    rng = rng_for("catalog")
    names = ["kc-a", "kc-b", "kc-c"]
    report = Report("catalog seeding (3 images, fan-out cluster, prune) and an image with registry credentials")
    try:
        for index, point in enumerate(_catalog_points(sandbox, rng, phases, len(names))):
            catalog = "kill%d-%s" % (index, namespace[-10:])
            ns = "%s-%d" % (namespace, index)
            kube.k8s.resources.get(api_version="v1", kind="Namespace").create(
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            tasks = [_catalog_task(ns, catalog, sources, names), _credentialed_task(ns, registry_image)]
            if point.phase == "pruning":  # seed two more first: the killed run prunes them
                seeded = play([_catalog_task(ns, catalog, sources, names + ["kc-d", "kc-e"])])
                assert seeded.rc == 0, seeded.fatal()
            sandbox.clear_audit()
            killer = Killer(point)
            sandbox.set_faults(latency=HELD)
            try:
                play(tasks, until=killer)
                _items(kube, "VirtualImage", ns)   # held back as long as the killed run's last requests: after them
            finally:
                sandbox.set_faults(clear=True)
            left = _left(kube, ns)
            repair = _after_kill(play, sandbox, tasks, _objects(kube, ns), killer)
            checks = [left] + _check_catalog(kube, ns, catalog, names, repair.results) + repair.checks
            report.add(point, killer, checks + ["third run: changed false, no write in the audit"])
            _remove(kube, ns, catalog)
    finally:
        record_property(REPORT_PROPERTY, report.text())


def test_killed_catalog_seeding_converges(play, sandbox, kube, namespace, sources, registry_image, record_property):
    _catalog_scenario(play, sandbox, kube, namespace, sources, registry_image,
                      [rng_for("catalog-pick").choice(CATALOG_PHASES)], record_property)


@pytest.mark.slow
def test_killed_catalog_seeding_converges_at_every_phase(play, sandbox, kube, namespace, sources, registry_image,
                                                         record_property):
    _catalog_scenario(play, sandbox, kube, namespace, sources, registry_image, list(CATALOG_PHASES),
                      record_property)


# -- track rotation ----------------------------------------------------------------------------------------------
TRACK_PHASES = ("new version created", "label half moved", "rotating")


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
            repair = _after_kill(play, sandbox, [task], _objects(kube, ns))
            result = repair.results["track"]
            versions = [vi for vi in _items(kube, "VirtualImage", ns)
                        if (vi["metadata"].get("labels") or {}).get(TRACK_LABEL) == "os"]
            assert [vi["metadata"]["name"] for vi in versions] == [new], [vi["metadata"]["name"] for vi in versions]
            assert versions[0]["status"]["phase"] == "Ready"
            assert versions[0]["metadata"]["labels"].get(NEWEST_LABEL) == NEWEST_VALUE
            assert result["failed_images"] == [] and old not in str(result["tracks"][0]["kept"])
            report.add(point, killer, ["next run: only %s left, Ready, carrying the newest label" % new,
                                       "%s (the old build) deleted, nothing kept" % old] + repair.checks
                       + ["third run: changed false, no write in the audit"])
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
            killed = kube.get("VirtualImage", namespace, state["name"])
            assert killed, "the killed run left no image %s" % state["name"]
            repair = _after_kill(play, sandbox, [task], _objects(kube, namespace))
            result = repair.results["up"]
            image = kube.get("VirtualImage", namespace, state["name"]) or {}
            record = json.loads(image["metadata"]["annotations"][UPLOAD_RECORD])
            assert result["phase"] == "Ready" and image["status"]["phase"] == "Ready", result.get("msg")
            assert record == {"sha1": sha1, "size": UPLOAD_SIZE}, record
            names = sorted(vi["metadata"]["name"] for vi in _items(kube, "VirtualImage", namespace))
            assert names == ["up-%d" % earlier for earlier in range(index + 1)], names   # no other image made
            # Made again only when the killed one could not take the file; then deleted once, created once, and
            # the whole file sent. Sending nothing is right only when the killed run's bytes were stored (its mark).
            remade = image["metadata"]["uid"] != killed["metadata"]["uid"]
            deleted = [key for method, key in repair.writes if method == "DELETE" and key[0] == "virtualimages"]
            created = [key for method, key in repair.writes if method == "POST" and key[0] == "virtualimages"]
            assert (deleted, len(created)) == (([("virtualimages", namespace, state["name"])], 1) if remade
                                               else ([], 0)), repair.writes
            mark = (killed["metadata"].get("annotations") or {}).get(UPLOAD_RECORD) or ""
            assert result["bytes"] == (0 if not remade and "sending" in mark else UPLOAD_SIZE), (result["bytes"], mark)
            report.add(point, killer, [
                "the killed run left the image %s%s" % ((killed.get("status") or {}).get("phase") or "without a phase",
                                                        ", marked sending" if "sending" in mark else ""),
                "next run: %s, Ready, recording sha1 and size of the file" % (
                    "recreated it and uploaded %d bytes" % result["bytes"] if remade
                    else "uploaded %d bytes into it" % result["bytes"] if result["bytes"]
                    else "sent nothing, recorded what the killed run had sent"),
                "images in the namespace: %s, nothing half-made" % ", ".join(names)] + repair.checks
                + ["third run: changed false, no write in the audit"])
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
        if phase in ("VM stopped", "AlwaysOn switched off", "VM stopped" + ALONE):
            trigger = Trigger("VirtualMachine %s Stopped" % vm,
                              lambda vm=vm: kube.vm_phase(namespace, vm) == "Stopped")
        elif phase == "image being made":
            trigger = audited(sandbox, "POST", "virtualimages", 1)
        else:
            trigger = audited(sandbox, "POST", "virtualmachineoperations", 2)  # the Stop, then the Start
        delay = 0.0 if phase == "Start issued" else round(rng.uniform(0.0, 0.3), 2)
        points.append(Point(phase, trigger, delay, group_only=phase.endswith(ALONE)))
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
            repair = _after_kill(play, sandbox, [task], _objects(kube, namespace), killer)
            result = repair.results["capture"]
            vm = kube.get("VirtualMachine", namespace, web) or {}
            assert result["phase"] == "Ready", result
            assert vm["status"]["phase"] == "Running" and vm["spec"]["runPolicy"] == policy, vm["status"]
            assert STOPPED_BY not in (vm["metadata"].get("annotations") or {})
            assert kube.vm_phase(namespace, idle) == "Stopped"
            assert STOPPED_BY not in ((kube.get("VirtualMachine", namespace, idle) or {})["metadata"].get(
                "annotations") or {})
            touched = [write for write in repair.writes if write[1] == ("virtualmachines", namespace, idle)]
            assert touched == [], touched   # the user's stopped VM: not one write
            report.add(point, killer, [
                "the killed run left %s %s, runPolicy %s, %s" % (
                    web, (left.get("status") or {}).get("phase"), (left.get("spec") or {}).get("runPolicy"),
                    "marked" if STOPPED_BY in (left["metadata"].get("annotations") or {}) else "unmarked"),
                "next run: image Ready, %s Running again with runPolicy %s, mark removed" % (web, policy),
                "%s, stopped by its user, still Stopped, never marked, not written" % idle] + repair.checks
                + ["third run: changed false, no write in the audit"])
    finally:
        record_property(REPORT_PROPERTY, report.text())


def test_killed_capture_converges_and_starts_the_vm_again(play, sandbox, kube, namespace, record_property):
    _capture_scenario(play, sandbox, kube, namespace, [rng_for("capture-pick").choice(CAPTURE_PHASES[:3])],
                      record_property)


def test_killed_playbook_alone_its_capture_going_on_beside_the_rerun_converges(play, sandbox, kube, namespace,
                                                                               record_property):
    """`kill -9` of ansible-playbook (its process group) while the VM is stopped: the module goes on, orphaned, and
    the re-run races it to start the VM again; both end with the image Ready and the VM Running, unmarked."""
    _capture_scenario(play, sandbox, kube, namespace, ["VM stopped" + ALONE], record_property)


def test_killed_playbook_alone_its_catalog_going_on_beside_the_rerun_converges(play, sandbox, kube, namespace,
                                                                               sources, registry_image,
                                                                               record_property):
    _catalog_scenario(play, sandbox, kube, namespace, sources, registry_image, ["creating" + ALONE], record_property)


@pytest.mark.slow
def test_killed_capture_converges_at_every_point(play, sandbox, kube, namespace, record_property):
    _capture_scenario(play, sandbox, kube, namespace, list(CAPTURE_PHASES), record_property)
