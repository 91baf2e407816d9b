"""Golden images that keep themselves current: builds published in place at one URL with their sums file, a catalog
track (keep) importing each new build, moving the newest label and deleting old versions only when nothing uses them.

Builds are raw disks with distinct first sectors, written with their SHA256SUMS into the sandbox's web root exactly
as a vendor's mirror changes: same URLs, new bytes. Writes come from the sandbox's audit, GETs of the sums files from
its file server's counters.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List

from test_catalog import catalog_play, role, writes

VI = "virtualization.deckhouse.io/v1alpha2"
TRACK_LABEL = "virtualization.deckhouse.io/ansible-catalog-track"
NEWEST_LABEL = "virtualization.deckhouse.io/ansible-catalog-newest"
BUILD_SIZE = 1024 * 1024
WFFC_CLASS = "local-path-wffc"   # the sandbox's late-binding storage class: a disk waits for its first consumer
REPO = Path(__file__).resolve().parents[2]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PLAYBOOK_BIN = REPO / ".venv" / "bin" / "ansible-playbook"


class Mirror:
    """A vendor's directory on the sandbox's file server: one image file and its sums file, replaced in place."""

    def __init__(self, sandbox: Any, folder: str, sums_form: str = "gnu") -> None:
        fileserver = sandbox.components["fileserver"]
        self.root = Path(fileserver["www"]) / folder
        self.root.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.base = "%s/%s" % (fileserver["http_url"], folder)
        self.stats_url = "%s/stats" % fileserver["http_url"]
        self.sums_form = sums_form
        self.url = self.base + "/cloud.img"
        self.sums_url = self.base + ("/SHA256SUMS" if sums_form == "gnu" else "/CHECKSUM")

    def publish(self, build: int, digest: str = "") -> str:
        """Write build ``build`` and its sums line (``digest`` overrides the true one); the true digest."""
        data = ("golden build %d\n" % build).encode().ljust(BUILD_SIZE, b"\0")
        (self.root / "cloud.img").write_bytes(data)
        true = hashlib.sha256(data).hexdigest()
        listed = digest or true
        line = ("%s *cloud.img\n%s  other.img\n" % (listed, "0" * 64) if self.sums_form == "gnu"
                else "SHA256 (cloud.img) = %s\n" % listed)
        (self.root / Path(self.sums_url).name).write_text(line)
        return true

    def sums_gets(self) -> int:
        with urllib.request.urlopen(self.stats_url) as reply:  # plain HTTP on loopback
            requests = json.load(reply)["requests"]
        return int(requests.get("%s/%s" % (self.folder, Path(self.sums_url).name), 0))


def track_entry(name: str, mirror: Mirror, keep: int = 2) -> Dict[str, Any]:
    return {"name": name, "url": mirror.url, "checksum": {"sha256": mirror.sums_url}, "keep": keep}


def versions(k8s: Any, namespace: str, track: str) -> Dict[str, Dict[str, Any]]:
    items = k8s.resources.get(api_version=VI, kind="VirtualImage").get(
        namespace=namespace, label_selector="%s=%s" % (TRACK_LABEL, track)).to_dict()["items"]
    return {item["metadata"]["name"]: item for item in items}


def newest(found: Dict[str, Dict[str, Any]]) -> List[str]:
    return sorted(name for name, obj in found.items() if (obj["metadata"].get("labels") or {}).get(NEWEST_LABEL))


def tracks(result: Any, var: str) -> Dict[str, Dict[str, Any]]:
    return {row["track"]: row for row in result[var]["tracks"]}


def test_three_builds_keep_two_and_a_version_in_use_is_kept_until_its_disk_is_gone(play, sandbox, k8s, namespace,
                                                                                   kube):
    plain = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6])
    used = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6], sums_form="bsd")
    entries = [track_entry("plain", plain), track_entry("used", used)]
    base = {"image_catalog_namespaces": [namespace], "image_catalog_name": "gold", "image_catalog_images": entries}
    digests: Dict[str, List[str]] = {"plain": [], "used": []}

    for build in (1, 2):
        digests["plain"].append(plain.publish(build))
        digests["used"].append(used.publish(build))
        run, var = catalog_play(play, **base)
        assert run.rc == 0, run.fatal()
        for track in ("plain", "used"):
            row = tracks(run, var)[track]
            assert row["newest"] == "%s-%s" % (track, digests[track][-1][:12]) and row["newest_ready"], row
            assert row["label"] == ("set" if build == 1 else "moved") and row["deleted"] == [], row
    oldest = {track: "%s-%s" % (track, digests[track][0][:12]) for track in digests}
    assert sorted(versions(k8s, namespace, "plain")) == sorted("plain-%s" % d[:12] for d in digests["plain"])
    assert newest(versions(k8s, namespace, "plain")) == ["plain-%s" % digests["plain"][1][:12]]

    # A disk made from the oldest version of "used" before the third build is published: on a late-binding storage
    # class it waits for its first consumer, so it is still to be filled from that version.
    kube.api("VirtualDisk").create(namespace=namespace, body={
        "apiVersion": VI, "kind": "VirtualDisk", "metadata": {"name": "from-old", "namespace": namespace},
        "spec": {"persistentVolumeClaim": {"storageClassName": WFFC_CLASS},
                 "dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": oldest["used"]}}}})
    kube.poll_phase("VirtualDisk", "from-old", namespace, "WaitForFirstConsumer")

    for track, mirror in (("plain", plain), ("used", used)):
        digests[track].append(mirror.publish(3))
    third, var = catalog_play(play, **base)
    assert third.rc == 0, third.fatal()
    rows = tracks(third, var)
    newest_of = {track: "%s-%s" % (track, digests[track][2][:12]) for track in digests}
    assert rows["plain"]["deleted"] == [oldest["plain"]] and rows["plain"]["previous_newest"] == \
        "plain-%s" % digests["plain"][1][:12]
    plain_live = versions(k8s, namespace, "plain")
    assert sorted(plain_live) == sorted("plain-%s" % d[:12] for d in digests["plain"][1:])
    assert newest(plain_live) == [newest_of["plain"]]
    assert rows["used"]["deleted"] == []
    kept = {k["name"]: k for k in rows["used"]["kept"]}
    assert kept[oldest["used"]]["used_by"] == ["VirtualDisk %s/from-old" % namespace], kept
    assert "used by VirtualDisk %s/from-old" % namespace in kept[oldest["used"]]["reason"]
    assert sorted(versions(k8s, namespace, "used")) == sorted("used-%s" % d[:12] for d in digests["used"])
    assert newest(versions(k8s, namespace, "used")) == [newest_of["used"]]
    assert "used by VirtualDisk %s/from-old" % namespace in third.stdout   # the table says why it is kept
    listed = play([{"deckhouse.virtualization.virtual_image_info": {"namespace": namespace, "track": "used"},
                    "register": "track"}])["track"]["summary"]
    assert [row["name"] for row in listed] == ["used-%s" % d[:12] for d in digests["used"]], listed  # oldest first
    assert [row["sequence"] for row in listed] == sorted(row["sequence"] for row in listed)
    assert len({row["sequence"] for row in listed}) == 3 and all(row["created"] for row in listed)
    assert [row["newest"] for row in listed] == [False, False, True]

    # Nothing new: zero writes, one GET per sums file.
    sandbox.clear_audit()
    urllib.request.urlopen(urllib.request.Request(plain.stats_url, method="DELETE")).close()
    again, var = catalog_play(play, **base)
    assert again.rc == 0, again.fatal()
    assert again[var]["changed"] is False
    assert writes(sandbox, [namespace, ""]) == []
    assert (plain.sums_gets(), used.sums_gets()) == (1, 1)

    # The disk is gone: the next run deletes the version it kept.
    kube.api("VirtualDisk").delete(name="from-old", namespace=namespace)
    kube.poll("VirtualDisk from-old gone", lambda: kube.get("VirtualDisk", namespace, "from-old") is None)
    last, var = catalog_play(play, **base)
    assert last.rc == 0, last.fatal()
    assert tracks(last, var)["used"]["deleted"] == [oldest["used"]]
    assert sorted(versions(k8s, namespace, "used")) == sorted("used-%s" % d[:12] for d in digests["used"][1:])


def test_check_mode_prints_the_plan_and_a_bad_build_touches_nothing(play, sandbox, k8s, namespace):
    mirror = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6])
    base = {"image_catalog_namespaces": [namespace], "image_catalog_name": "gold",
            "image_catalog_images": [track_entry("edge", mirror, keep=1)]}
    first = mirror.publish(1)
    run, var = catalog_play(play, **base)
    assert run.rc == 0, run.fatal()
    old_name = "edge-%s" % first[:12]

    second = mirror.publish(2)
    sandbox.clear_audit()
    check, var = catalog_play(play, check=True, diff=True, **base)
    assert check.rc == 0, check.fatal()
    row = tracks(check, var)["edge"]
    new_name = "edge-%s" % second[:12]
    assert (row["newest"], row["label"], row["deleted"]) == (new_name, "would move", [old_name]), row
    assert [r["result"] for r in check[var]["images"]] == ["would create"]
    assert writes(sandbox, [namespace], dry_run=False) == []
    # --diff: the new version (with the newest label) in, the old one out; the table: the track's plan
    diff = check[var]["diff"]
    new_ref, old_ref = ("VirtualImage %s/%s" % (namespace, n) for n in (new_name, old_name))
    assert diff["after"][new_ref]["metadata"]["labels"][NEWEST_LABEL] == "true" and new_ref not in diff["before"]
    assert old_ref in diff["before"] and old_ref not in diff["after"]
    assert '+            "name": "%s"' % new_name in check.stdout and '-            "name": "%s"' % old_name \
        in check.stdout
    assert re.search(r"%s +edge +%s +would move +- +%s" % (namespace, new_name, old_name), check.stdout)
    assert sorted(versions(k8s, namespace, "edge")) == [old_name]

    # A build whose sums line does not match its bytes: the new version fails; the old one and its label stay.
    bad = mirror.publish(3, digest="ab" * 32)
    assert bad != "ab" * 32
    failed, var = catalog_play(play, **base)
    assert failed.rc != 0
    assert "images[0] (edge)" in failed.fatal() or "image_catalog_images[0] (edge)" in failed.fatal()
    live = versions(k8s, namespace, "edge")
    assert newest(live) == [old_name] and old_name in live
    assert tracks(failed, var)["edge"]["label"] == "waiting"


def test_bad_track_inputs_fail_before_any_write_naming_the_entry_and_the_option(play, sandbox, namespace):
    mirror = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6])
    mirror.publish(1)
    (mirror.root / "SHA256SUMS").write_text("%s  another.img\n" % ("0" * 64))
    dead = "http://127.0.0.1:9/SHA256SUMS"
    cases = [
        ({"name": "nofile", "url": mirror.url, "checksum": {"sha256": mirror.sums_url}, "keep": 2},
         "image_catalog_images[0] (nofile): checksum.sha256: the sums file %s cannot give the digest of cloud.img: "
         "it has no sha256 line for cloud.img; nothing was written" % mirror.sums_url),
        ({"name": "gone", "url": mirror.url, "checksum": {"sha256": mirror.base + "/NO-SUCH-SUMS"}, "keep": 2},
         "image_catalog_images[0] (gone): checksum.sha256: cannot read the sums file %s/NO-SUCH-SUMS (looking for "
         "cloud.img): HTTP 404 Not Found; nothing was written" % mirror.base),
        ({"name": "dead", "url": mirror.url, "checksum": {"sha256": dead}, "keep": 2},
         "image_catalog_images[0] (dead): checksum.sha256: cannot read the sums file %s (looking for cloud.img): "
         % dead),
        ({"name": "zero", "url": mirror.url, "version": "v1", "keep": 0},
         "image_catalog_images[0] (zero): keep must be at least 1 (the newest version is always kept), got 0"),
        ({"name": "dotted", "url": mirror.url, "version": "24.04", "keep": 2},
         "image_catalog_images[0] (dotted): version '24.04' is not a valid name part"),
        ({"name": "nameless", "image": "registry.example.com/os:latest", "keep": 2},
         "image_catalog_images[0] (nameless): keep needs version, or a checksum whose digest names the versions"),
    ]
    sandbox.clear_audit()
    tasks = []
    for index, (entry, _message) in enumerate(cases):
        tasks.append({"name": "case %d" % index, "block": [role("image_catalog", image_catalog_namespaces=[namespace],
                                                                image_catalog_images=[entry])],
                      "rescue": [{"name": "error of case %d" % index,
                                  "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg }}"},
                                  "register": "case%d" % index}]})
    result = play(tasks)
    assert result.rc == 0, result.stdout
    for index, (_entry, message) in enumerate(cases):
        got = (result["case%d" % index] or {}).get("msg") or ""
        assert got.startswith(message), (index, got)
    assert writes(sandbox, [namespace, ""]) == []


GUIDE = REPO / "docs" / "docsite" / "rst" / "guide_catalogs.rst"
GOLDEN_PLAYBOOK = REPO / "playbooks" / "golden_images.yml"


def guide_block(text: str, first_line: str) -> str:
    """The indented code block of the guide that starts with ``first_line``, unindented."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == first_line.strip() and line.startswith("    "))
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line[4:] if line.strip() else line)
    return "".join(block).rstrip("\n") + "\n"


def test_the_guides_golden_playbook_runs_as_written_and_keeps_the_version_its_disk_uses(
        sandbox, sandbox_env, collections_root, k8s, kube, tmp_path):
    """The guide shows playbooks/golden_images.yml whole; two scheduled runs, a new build between them."""
    assert guide_block(GUIDE.read_text(), "---") == GOLDEN_PLAYBOOK.read_text()
    mirror = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6])
    namespace = "t-golden-%s" % uuid.uuid4().hex[:6]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "K8S_AUTH_")) and k != "KUBECONFIG"}
    env.update(sandbox_env)
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(collections_root), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_HOME": str(tmp_path / "home"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
                "PATH": "%s:%s" % (VENV_PYTHON.parent, os.environ.get("PATH", ""))})
    argv = [str(PLAYBOOK_BIN), "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=%s" % VENV_PYTHON,
            "-e", json.dumps({"golden_url": mirror.url, "golden_sums_url": mirror.sums_url,
                              "golden_namespace": namespace, "golden_keep": 1}), str(GOLDEN_PLAYBOOK)]
    try:
        digests = []
        for build in (1, 2):
            digests.append(mirror.publish(build))
            run = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
                                 check=False)
            assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
        first, second = ("base-os-%s" % d[:12] for d in digests)
        live = versions(k8s, namespace, "base-os")
        assert sorted(live) == [second] and newest(live) == [second]   # keep 1: the first build rotated away
        disks = {d["metadata"]["name"]: d for d in kube.api("VirtualDisk").get(namespace=namespace).to_dict()["items"]}
        assert sorted(disks) == sorted("base-os-root-%s" % d[:12] for d in digests)
        assert all(d["status"]["phase"] == "Ready" for d in disks.values())   # a filled disk keeps its own copy
        assert re.search(r"%s +base-os +%s +moved +- +%s" % (namespace, second, first), run.stdout)
    finally:
        try:
            k8s.resources.get(api_version="v1", kind="Namespace").delete(name=namespace)
        except Exception:  # never created (the first run failed early)
            pass


def test_a_cluster_track_keeps_a_version_a_namespace_uses(play, sandbox, k8s, kube, namespace):
    mirror = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6])
    track = "ctrack-%s" % uuid.uuid4().hex[:6]
    base = {"cluster_image_catalog_name": track, "cluster_image_catalog_images": [track_entry(track, mirror, keep=1)]}
    cvis = k8s.resources.get(api_version=VI, kind="ClusterVirtualImage")

    def live() -> Dict[str, Dict[str, Any]]:
        items = cvis.get(label_selector="%s=%s" % (TRACK_LABEL, track)).to_dict()["items"]
        return {item["metadata"]["name"]: item for item in items}

    try:
        first = "%s-%s" % (track, mirror.publish(1)[:12])
        run, var = catalog_play(play, "cluster_image_catalog", **base)
        assert run.rc == 0, run.fatal()
        kube.api("VirtualDisk").create(namespace=namespace, body={
            "apiVersion": VI, "kind": "VirtualDisk", "metadata": {"name": "from-cluster", "namespace": namespace},
            "spec": {"persistentVolumeClaim": {"storageClassName": WFFC_CLASS}, "dataSource": {
                "type": "ObjectRef", "objectRef": {"kind": "ClusterVirtualImage", "name": first}}}})
        kube.poll_phase("VirtualDisk", "from-cluster", namespace, "WaitForFirstConsumer")

        second = "%s-%s" % (track, mirror.publish(2)[:12])
        run, var = catalog_play(play, "cluster_image_catalog", **base)
        assert run.rc == 0, run.fatal()
        row = tracks(run, var)[track]
        assert (row["namespace"], row["newest"], row["deleted"]) == (None, second, []), row
        assert row["kept"][0]["name"] == first
        assert "VirtualDisk %s/from-cluster" % namespace in row["kept"][0]["used_by"], row
        assert sorted(live()) == sorted([first, second]) and newest(live()) == [second]
    finally:
        for name in live():
            cvis.delete(name=name)


def test_an_entry_without_keep_treats_a_new_build_as_a_source_change(play, sandbox, k8s, namespace):
    """No track: the new digest is a changed spec, refused on a provisioned image unless recreate says so."""
    mirror = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6])
    base = {"image_catalog_namespaces": [namespace], "image_catalog_name": "plain",
            "image_catalog_images": [{"name": "plain", "url": mirror.url, "checksum": {"sha256": mirror.sums_url}}]}
    mirror.publish(1)
    run, var = catalog_play(play, **base)
    assert run.rc == 0, run.fatal()
    second = mirror.publish(2)
    refused, var = catalog_play(play, **base)
    assert refused.rc != 0 and "spec.dataSource.http.checksum.sha256" in refused.fatal()
    replaced, var = catalog_play(play, image_catalog_recreate=True, **base)
    assert replaced.rc == 0, replaced.fatal()
    assert [r["result"] for r in replaced[var]["images"]] == ["recreated"]
    live = k8s.resources.get(api_version=VI, kind="VirtualImage").get(name="plain", namespace=namespace).to_dict()
    assert live["spec"]["dataSource"]["http"]["checksum"] == {"sha256": second}


def test_fanout_hubs_of_old_builds_are_retired_and_a_track_leaving_the_catalog_is_pruned_unless_used(
        play, sandbox, k8s, kube, namespace):
    mirror = Mirror(sandbox, "gold-%s" % uuid.uuid4().hex[:6])
    catalog = "fan-%s" % uuid.uuid4().hex[:6]
    base = {"image_catalog_namespaces": [namespace], "image_catalog_name": catalog, "image_catalog_fanout": "cluster",
            "image_catalog_prune": True}
    entries = [track_entry("fan", mirror, keep=1)]
    cvis = k8s.resources.get(api_version=VI, kind="ClusterVirtualImage")

    def hubs() -> List[str]:
        return sorted(item["metadata"]["name"] for item in cvis.get(
            label_selector="virtualization.deckhouse.io/ansible-catalog-fanout=%s" % catalog).to_dict()["items"])

    try:
        mirror.publish(1)
        run, var = catalog_play(play, image_catalog_images=entries, **base)
        assert run.rc == 0, run.fatal()
        first_hubs = hubs()
        assert len(first_hubs) == 1
        second = "fan-%s" % mirror.publish(2)[:12]
        run, var = catalog_play(play, image_catalog_images=entries, **base)
        assert run.rc == 0, run.fatal()
        assert run[var]["retired_hubs"] == first_hubs
        kube.poll("the first build's hub gone", lambda: first_hubs[0] not in hubs())
        assert len(hubs()) == 1 and sorted(versions(k8s, namespace, "fan")) == [second]

        # The entry leaves the catalog while a disk is still to be filled from its version: kept, then pruned.
        kube.api("VirtualDisk").create(namespace=namespace, body={
            "apiVersion": VI, "kind": "VirtualDisk", "metadata": {"name": "late", "namespace": namespace},
            "spec": {"persistentVolumeClaim": {"storageClassName": WFFC_CLASS}, "dataSource": {
                "type": "ObjectRef", "objectRef": {"kind": "VirtualImage", "name": second}}}})
        kube.poll_phase("VirtualDisk", "late", namespace, "WaitForFirstConsumer")
        run, var = catalog_play(play, image_catalog_images=[], **base)
        assert run.rc == 0, run.fatal()
        row = tracks(run, var)["fan"]
        assert (row["label"], row["deleted"], [k["name"] for k in row["kept"]]) == ("retired", [], [second]), row
        assert sorted(versions(k8s, namespace, "fan")) == [second]
        kube.api("VirtualDisk").delete(name="late", namespace=namespace)
        kube.poll("VirtualDisk late gone", lambda: kube.get("VirtualDisk", namespace, "late") is None)
        run, var = catalog_play(play, image_catalog_images=[], **base)
        assert run.rc == 0, run.fatal()
        assert tracks(run, var)["fan"]["deleted"] == [second] and versions(k8s, namespace, "fan") == {}
    finally:
        for name in hubs():
            cvis.delete(name=name)
