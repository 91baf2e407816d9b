"""Tests of the kill harness itself (killing.py): its check of the repairing run fails when it should.

- Fabricated objects and audit records: a seeded "repair" that rewrites (PATCH, PUT), deletes and makes again, or
  sends a create that leaves nothing behind, beside an object that was already right, makes ``check_repair`` fail
  naming the object; a repair that only creates what was missing and changes what was not right passes.
- The same on the sandbox, with the audit its API server really records (the fields the check reads).
- The labels the harness looks for are the ones the collection writes.
- Killing ansible-playbook alone kills its process group and leaves what runs in a session of its own (Ansible's
  workers call setsid) going on, named as orphans; waiting for orphans fails, killing them, at its deadline.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from killing import (
    CATALOG_LABEL, OWNED_SECRET_LABEL, STOPPED_BY, UPLOAD_RECORD, Killer, Point, Trigger, check_repair, collection,
    seen, writes_in,
)

API = "virtualization.deckhouse.io/v1alpha2"
# imported while the suite is collected, before any test could install Ansible's own collection finder
MANIFEST, IMAGE_OPTIONS, KINDS = (collection(name) for name in ("images.manifest", "options.image", "common.kinds"))


def _image(name: str, uid: str, phase: str = "Ready", labels: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    return {"apiVersion": API, "kind": "VirtualImage",
            "metadata": {"name": name, "namespace": "ns", "uid": uid, "labels": labels or {CATALOG_LABEL: "c"}},
            "spec": {"dataSource": {"type": "HTTP", "http": {"url": "http://example/%s" % name}}},
            "status": {"phase": phase}}


def _secret(uid: str, owner: str = "") -> Dict[str, Any]:
    meta: Dict[str, Any] = {"name": "cred-registry-credentials", "namespace": "ns", "uid": uid,
                            "labels": {OWNED_SECRET_LABEL: "virtualimages.ns"}}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": API, "kind": "VirtualImage", "name": "cred", "uid": owner}]
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "e30="}}


def _write(method: str, resource: str, name: str = "", code: int = 200, user: str = "admin",
           dry_run: bool = False) -> Dict[str, Any]:
    """An audit record as the sandbox writes it (a create names its collection: no name)."""
    return {"method": method, "verb": {"POST": "create", "PUT": "update", "PATCH": "patch",
                                       "DELETE": "delete"}[method],
            "resource": resource, "namespace": "ns", "name": name, "code": code, "user": user, "dryRun": dry_run}


@pytest.fixture
def killed() -> Dict[str, List[Dict[str, Any]]]:
    """What a kill left: a Ready image (right), one still to be made (missing), a Secret without its owner yet."""
    return {"virtualimages": [_image("a", "u-a")], "secrets": [_secret("u-s")]}


def _repaired(killed: Dict[str, List[Dict[str, Any]]]) -> Dict[str, List[Dict[str, Any]]]:
    """What a good repair leaves: the missing image made, the Secret given its owner, the right image as it was."""
    after = copy.deepcopy(killed)
    after["virtualimages"].append(_image("b", "u-b"))
    after["secrets"] = [_secret("u-s", owner="u-b")]
    return after


# the missing image created, the Secret's owner set; a read of the right image is no write
GOOD_REPAIR = [_write("POST", "virtualimages", code=201), _write("PATCH", "secrets", "cred-registry-credentials"),
               {"method": "GET", "verb": "get", "resource": "virtualimages", "namespace": "ns", "name": "a",
                "code": 200, "user": "admin", "dryRun": False}]


def test_a_repair_writing_only_what_was_missing_passes(killed):
    checks = check_repair(seen(killed), seen(_repaired(killed)), GOOD_REPAIR)
    assert "created virtualimages ns/b" in checks[0] and "changed secrets ns/cred-registry-credentials" in checks[0]
    assert checks[1].startswith("repair: 1 objects already right kept"), checks


@pytest.mark.parametrize("seeded", [
    [_write("PATCH", "virtualimages", "a")],
    [_write("PUT", "virtualimages", "a")],
    [_write("DELETE", "virtualimages", "a"), _write("POST", "virtualimages", code=201)],
])
def test_a_repair_rewriting_an_object_already_right_fails(killed, seeded):
    """The seeded repair writes the Ready image "a" (which the kill left right) and leaves it as it was."""
    after = _repaired(killed)
    if seeded[0]["method"] == "DELETE":
        after["virtualimages"][0]["metadata"]["uid"] = "u-a2"   # deleted and made again: a new uid
    with pytest.raises(AssertionError, match="virtualimages ns/a"):
        check_repair(seen(killed), seen(after), GOOD_REPAIR + seeded)


def test_an_object_made_again_without_its_write_in_the_audit_fails(killed):
    """A new uid alone (the audit lost the writes) is enough: same content, another object."""
    after = _repaired(killed)
    after["virtualimages"][0]["metadata"]["uid"] = "u-a2"
    with pytest.raises(AssertionError, match="virtualimages ns/a: deleted and created again"):
        check_repair(seen(killed), seen(after), GOOD_REPAIR)


def test_a_create_that_leaves_nothing_fails(killed):
    with pytest.raises(AssertionError, match="2 creates sent, but 1 objects are new"):
        check_repair(seen(killed), seen(_repaired(killed)), GOOD_REPAIR + [_write("POST", "secrets", code=201)])


def test_what_was_not_right_may_be_written(killed):
    """A failed image, one being deleted and one whose labels the repair changed are not "already right"."""
    failed = _image("f", "u-f", phase="Failed")
    going = _image("g", "u-g")
    going["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    relabel = _image("r", "u-r", labels={CATALOG_LABEL: "old"})
    before = dict(killed, virtualimages=killed["virtualimages"] + [failed, going, relabel])
    after = _repaired(killed)
    after["virtualimages"] += [_image("f", "u-f9"), _image("r", "u-r")]
    writes = GOOD_REPAIR + [_write("DELETE", "virtualimages", "f"), _write("POST", "virtualimages", code=201),
                            _write("PATCH", "virtualimages", "r"), _write("DELETE", "virtualimages", "g")]
    checks = check_repair(seen(before), seen(after), writes)
    assert "made again virtualimages ns/f" in checks[0] and "gone virtualimages ns/g" in checks[0], checks


def test_failed_and_dry_run_and_other_users_writes_do_not_count(killed):
    noise = [_write("PATCH", "virtualimages", "a", code=409), _write("PATCH", "virtualimages", "a", dry_run=True),
             _write("PATCH", "virtualimages", "a", user="controller")]
    assert writes_in(noise) == []
    check_repair(seen(killed), seen(_repaired(killed)), GOOD_REPAIR + noise)


def test_the_harness_reads_the_labels_the_collection_writes():
    """The constants are the collection's own objects, not copies (and the owned-Secret label is -owned-by)."""
    assert OWNED_SECRET_LABEL is KINDS.OWNED_SECRET_LABEL
    assert OWNED_SECRET_LABEL.endswith("/ansible-owned-by")
    assert CATALOG_LABEL is collection("common.labels").CATALOG_LABEL
    assert UPLOAD_RECORD is collection("transfer.upload").ANNOTATION
    assert STOPPED_BY is collection("machines.power").STOPPED_BY
    options = IMAGE_OPTIONS.ImageOptions(name="cred", namespace="ns", source={"container_image": {
        "image": "registry.example/a:1", "registry_credentials": {"username": "u", "password": "p"}}})
    secret = MANIFEST.build_pull_secret(options, KINDS.VIRTUAL_IMAGE)
    assert OWNED_SECRET_LABEL in secret["metadata"]["labels"], secret["metadata"]


def test_the_check_fails_on_a_rewrite_recorded_by_the_sandbox(sandbox, k8s, namespace):
    """On the sandbox: a no-op PATCH of a Secret that was already right, and a Secret deleted and made again, fail the
    check through the audit the API server really records; making a missing one passes."""
    api = k8s.resources.get(api_version="v1", kind="Secret")

    def body(name: str) -> Dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": {"tier": "gold"}},
                "type": "Opaque", "data": {"k": "dg=="}}

    def listing() -> Dict[str, List[Dict[str, Any]]]:
        return {"secrets": api.get(namespace=namespace).to_dict()["items"]}

    api.create(namespace=namespace, body=body("right"))
    api.create(namespace=namespace, body=body("remade"))
    before = seen(listing())
    sandbox.clear_audit()
    api.create(namespace=namespace, body=body("missing"))
    assert "created secrets %s/missing" % namespace in check_repair(before, seen(listing()), sandbox.audit())[0]
    api.patch(namespace=namespace, name="right", body={"metadata": {"labels": {"tier": "gold"}}},
              content_type="application/merge-patch+json")
    with pytest.raises(AssertionError, match="secrets %s/right: PATCH although it was already right" % namespace):
        check_repair(before, seen(listing()), sandbox.audit())
    sandbox.clear_audit()
    api.create(namespace=namespace, body=body("missing2"))
    api.delete(namespace=namespace, name="remade")
    api.create(namespace=namespace, body=body("remade"))
    with pytest.raises(AssertionError, match="secrets %s/remade: deleted and created again" % namespace):
        check_repair(before, seen(listing()), sandbox.audit())


def _alive(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_killing_the_playbook_alone_leaves_what_runs_in_its_own_session_and_names_it(tmp_path: Path):
    # A stand-in for ansible-playbook: a child in its group, and a "worker" that starts a session of its own.
    ready = tmp_path / "ready"
    script = textwrap.dedent("""
        import os, subprocess, sys, time
        same = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
        open(sys.argv[1], "w").write("%d %d" % (same.pid, worker.pid))
        time.sleep(300)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, str(ready)], start_new_session=True)
    worker = 0
    try:
        started = Trigger("the children started", lambda: ready.exists() and " " in ready.read_text())
        killer = Killer(Point("test", started, 0.0, group_only=True))
        killer(proc)
        same, worker = (int(pid) for pid in ready.read_text().split())
        assert proc.returncode == -9 and not _alive(same)
        assert killer.orphans() == [worker] and _alive(worker)
        assert "1 processes of its workers went on" in killer.outcome
        with pytest.raises(AssertionError, match="did not end within"):
            killer.wait_orphans(0.2)
        assert not _alive(worker) and killer.orphans() == []
    finally:
        for pid in (proc.pid, worker):
            if pid and _alive(pid):
                os.kill(pid, 9)
