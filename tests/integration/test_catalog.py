"""The image_catalog / cluster_image_catalog roles against the sandbox, through real ansible-playbook runs.

Each test batches its steps into few playbook runs (each costs ~2-3 s); write counts come from the
sandbox's audit log, byte counts from its file server.
"""
from __future__ import annotations

import json
import re
import shutil
import ssl
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml

VI = "virtualization.deckhouse.io/v1alpha2"
CATALOG_LABEL = "virtualization.deckhouse.io/ansible-catalog"
FANOUT_LABEL = "virtualization.deckhouse.io/ansible-catalog-fanout"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def role(name: str, **variables: Any) -> Dict[str, Any]:
    """An include_role task (the role's result variable is captured by a skipped placeholder task)."""
    return {"name": "catalog", "ansible.builtin.include_role": {"name": "deckhouse.virtualization." + name},
            "vars": variables}


def placeholder(var: str) -> Dict[str, Any]:
    """Makes the play fixture dump ``var`` (the role registers it); skipped itself."""
    return {"name": "capture " + var, "ansible.builtin.debug": {"msg": "-"}, "when": False, "register": var}


def catalog_play(play: Any, name: str = "image_catalog", check: bool = False, diff: bool = False,
                 **variables: Any) -> Any:
    var = name + "_result"
    return play([placeholder(var), role(name, **variables)], check=check, diff=diff), var


def rows(result: Any, var: str = "image_catalog_result") -> Dict[str, Dict[str, Any]]:
    return {"%s/%s" % (r["namespace"], r["name"]): r for r in result[var]["images"]}


def writes(sandbox: Any, namespaces: List[str], dry_run: Optional[bool] = None) -> List[Dict[str, Any]]:
    """Writes the admin sent to the given namespaces ('' = cluster-scoped), optionally only (non-)dry-run."""
    return [item for item in sandbox.audit()
            if item.get("user") == "admin" and item.get("method") in WRITES
            and (item.get("namespace") or "") in namespaces
            and (dry_run is None or bool(item.get("dryRun")) == dry_run)]


def vi_names(k8s: Any, namespace: str) -> Dict[str, Dict[str, Any]]:
    items = k8s.resources.get(api_version=VI, kind="VirtualImage").get(namespace=namespace).to_dict()["items"]
    return {item["metadata"]["name"]: item for item in items}


@pytest.fixture
def second_namespace(k8s: Any) -> Any:
    """A namespace the catalog itself creates (image_catalog_create_namespaces), deleted afterwards."""
    name = "t-cat-%s" % uuid.uuid4().hex[:8]
    yield name
    try:
        k8s.resources.get(api_version="v1", kind="Namespace").delete(name=name)
    except Exception:  # never created (a test failed early)
        pass


def test_seed_rerun_add_relabel_prune(play, sandbox, k8s, namespace, second_namespace, sources, tmp_path):
    """Seed two namespaces (one created by the role) from entries and a manifest folder, then evolve the catalog."""
    spaces = [namespace, second_namespace]
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "raw.yaml").write_text(yaml.safe_dump({
        "apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": "from-manifest", "labels": {"via": "git"}},
        "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": sources["raw"]}}}}))
    base = {"image_catalog_namespaces": spaces, "image_catalog_create_namespaces": True,
            "image_catalog_name": "it", "image_catalog_manifests": [str(manifests / "*.yaml")]}
    entries = [{"name": "disk-a", "url": sources["qcow2"], "labels": {"tier": "base"}},
               {"name": "disk-b", "url": sources["raw"]}]

    first, var = catalog_play(play, image_catalog_images=entries, **base)
    assert first.rc == 0, first.stdout
    seeded = rows(first)
    assert sorted(seeded) == sorted("%s/%s" % (ns, n) for ns in spaces for n in ("disk-a", "disk-b", "from-manifest"))
    for row in seeded.values():
        assert row["result"] == "created" and row["phase"] == "Ready" and row["format"] in ("qcow2", "raw"), row
        assert row["size"] == "4Mi" and row["seconds"] >= 0
    assert first[var]["created_namespaces"] == [second_namespace]
    live = vi_names(k8s, second_namespace)
    assert live["disk-a"]["metadata"]["labels"] == {"tier": "base", CATALOG_LABEL: "it"}
    assert live["from-manifest"]["metadata"]["labels"] == {"via": "git", CATALOG_LABEL: "it"}
    # the summary table is printed with the same data
    assert "NAMESPACE" in first.stdout
    assert re.search(r"%s +disk-a +created +Ready +4Mi +qcow2 +[0-9.]+s" % namespace, first.stdout)

    sandbox.clear_audit()
    again, _output = catalog_play(play, image_catalog_images=entries, **base)
    assert again.rc == 0, again.stdout
    assert again[var]["changed"] is False
    assert {r["result"] for r in rows(again).values()} == {"unchanged"}
    assert writes(sandbox, spaces + [""]) == []
    lists = [i for i in sandbox.audit() if i["user"] == "admin" and i["verb"] == "list"
             and i["resource"] == "virtualimages"]
    assert sorted(i["namespace"] for i in lists) == sorted(spaces)  # one list per namespace, no gets
    assert not [i for i in sandbox.audit() if i["user"] == "admin" and i["verb"] == "get"]

    # add an image and change a label: one create and one patch per namespace, nothing else
    sandbox.clear_audit()
    evolved = [dict(entries[0], labels={"tier": "gold"}), entries[1], {"name": "disk-c", "url": sources["qcow2"]}]
    third, _output = catalog_play(play, image_catalog_images=evolved, **base)
    assert third.rc == 0, third.stdout
    results = rows(third)
    for ns in spaces:
        assert results["%s/disk-a" % ns]["result"] == "updated"
        assert results["%s/disk-b" % ns]["result"] == "unchanged"
        assert results["%s/disk-c" % ns]["result"] == "created" and results["%s/disk-c" % ns]["phase"] == "Ready"
        assert sorted(w["method"] for w in writes(sandbox, [ns])) == ["PATCH", "POST"]
        assert vi_names(k8s, ns)["disk-a"]["metadata"]["labels"]["tier"] == "gold"

    # prune: a foreign image stays; check mode lists what it would delete and deletes nothing
    k8s.resources.get(api_version=VI, kind="VirtualImage").create(namespace=namespace, body={
        "apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": "foreign"},
        "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": sources["raw"]}}}})
    pruned = [entries[1]]
    sandbox.clear_audit()
    dry, _output = catalog_play(play, check=True, image_catalog_images=pruned, image_catalog_prune=True, **base)
    assert dry.rc == 0, dry.stdout
    listed = sorted("%s/%s" % (r["namespace"], r["name"]) for r in dry[var]["pruned"])
    assert listed == sorted("%s/%s" % (ns, n) for ns in spaces for n in ("disk-a", "disk-c"))
    assert {r["result"] for r in dry[var]["pruned"]} == {"would delete"}
    assert writes(sandbox, spaces, dry_run=False) == []
    assert "disk-a" in vi_names(k8s, namespace)

    real, _output = catalog_play(play, image_catalog_images=pruned, image_catalog_prune=True, **base)
    assert real.rc == 0, real.stdout
    for ns in spaces:
        assert sorted(vi_names(k8s, ns)) == sorted(["disk-b", "from-manifest"] + (["foreign"] if ns == namespace else []))


def test_changed_source_refused_then_recreated_with_diff(play, sandbox, k8s, namespace, sources):
    """A Ready image whose listed URL changed: refused by default (the others finish); recreate replaces it."""
    base = {"image_catalog_namespaces": [namespace], "image_catalog_name": "it-re"}
    entries = [{"name": "moving", "url": sources["raw"]}, {"name": "steady", "url": sources["raw"]}]
    first, var = catalog_play(play, image_catalog_images=entries, **base)
    assert first.rc == 0, first.stdout
    uid = vi_names(k8s, namespace)["moving"]["metadata"]["uid"]
    moved = [{"name": "moving", "url": sources["qcow2"]}, entries[1]]

    sandbox.clear_audit()
    refused, _output = catalog_play(play, image_catalog_images=moved, **base)
    assert refused.rc != 0
    assert "spec.dataSource.http.url" in refused.stdout and "image_catalog_recreate: true" in refused.stdout
    assert writes(sandbox, [namespace]) == []
    assert vi_names(k8s, namespace)["moving"]["metadata"]["uid"] == uid

    dry, _output = catalog_play(play, check=True, diff=True, image_catalog_images=moved,
                                image_catalog_recreate=True, **base)
    assert dry.rc == 0, dry.stdout
    assert rows(dry)["%s/moving" % namespace]["result"] == "would recreate"
    assert writes(sandbox, [namespace], dry_run=False) == []
    assert vi_names(k8s, namespace)["moving"]["metadata"]["uid"] == uid

    real, _output = catalog_play(play, diff=True, image_catalog_images=moved, image_catalog_recreate=True, **base)
    assert real.rc == 0, real.stdout
    results = rows(real)
    assert results["%s/moving" % namespace]["result"] == "recreated"
    assert results["%s/moving" % namespace]["phase"] == "Ready"
    assert results["%s/moving" % namespace]["format"] == "qcow2"
    assert results["%s/steady" % namespace]["result"] == "unchanged"
    live = vi_names(k8s, namespace)["moving"]
    assert live["metadata"]["uid"] != uid and live["spec"]["dataSource"]["http"]["url"] == sources["qcow2"]
    assert sorted(w["method"] for w in writes(sandbox, [namespace], dry_run=False)) == ["DELETE", "POST"]
    ref = "VirtualImage %s/moving" % namespace
    diff = real[var]["diff"]
    assert list(diff["before"]) == [ref] and list(diff["after"]) == [ref]
    assert diff["before"][ref]["spec"]["dataSource"]["http"]["url"] == sources["raw"]
    assert diff["after"][ref]["spec"]["dataSource"]["http"]["url"] == sources["qcow2"]
    assert "+++ after" in real.stdout


def _stats(fileserver: Dict[str, Any]) -> Dict[str, Any]:
    req = urllib.request.Request(fileserver["http_url"] + "/stats")
    with urllib.request.urlopen(req, timeout=10, context=ssl.create_default_context()) as resp:
        return json.loads(resp.read())


def test_fanout_downloads_each_source_once(play, sandbox, k8s, namespace, second_namespace, sources):
    """Three namespaces, two entries sharing one URL: the file server serves that file once."""
    fileserver = sandbox.components["fileserver"]
    unique = "fanout-%s.qcow2" % uuid.uuid4().hex[:8]
    shutil.copy(Path(fileserver["www"]) / "it-disk.qcow2", Path(fileserver["www"]) / unique)
    size = (Path(fileserver["www"]) / unique).stat().st_size
    url = "%s/%s" % (fileserver["http_url"], unique)
    third = "t-cat-%s" % uuid.uuid4().hex[:8]
    spaces = [namespace, second_namespace, third]
    catalog = "fan-%s" % uuid.uuid4().hex[:6]
    try:
        result, var = catalog_play(play, image_catalog_namespaces=spaces, image_catalog_create_namespaces=True,
                                   image_catalog_name=catalog, image_catalog_fanout="cluster",
                                   image_catalog_images=[{"name": "one", "url": url}, {"name": "same", "url": url}])
        assert result.rc == 0, result.stdout
        assert _stats(fileserver)["bytes"].get(unique) == size
        hubs = result[var]["fanout"]
        assert len(hubs) == 1 and hubs[0]["phase"] == "Ready" and hubs[0]["name"].startswith(catalog + "-src-")
        for row in result[var]["images"]:
            assert row["phase"] == "Ready" and row["copied_from"] == hubs[0]["name"], row
        vi = vi_names(k8s, third)["one"]
        assert vi["spec"]["dataSource"] == {"type": "ObjectRef",
                                            "objectRef": {"kind": "ClusterVirtualImage", "name": hubs[0]["name"]}}
        cvi = k8s.resources.get(api_version=VI, kind="ClusterVirtualImage").get(name=hubs[0]["name"]).to_dict()
        assert cvi["metadata"]["labels"] == {FANOUT_LABEL: catalog}
        # dropping fan-out with prune removes the hub the catalog owns
        pruned, _output = catalog_play(play, image_catalog_namespaces=spaces, image_catalog_name=catalog,
                                       image_catalog_prune=True, image_catalog_fanout="cluster", image_catalog_images=[])
        assert pruned.rc == 0, pruned.stdout
        assert sorted(r["name"] for r in pruned[var]["pruned"]) == sorted([hubs[0]["name"]] + ["one", "same"] * 3)
    finally:
        try:
            k8s.resources.get(api_version="v1", kind="Namespace").delete(name=third)
        except Exception:
            pass


def test_failing_entry_named_while_others_finish(play, namespace, sources):
    """A 404 fails the run naming the entry; the other images still become Ready and are reported."""
    entries = [{"name": "good-a", "url": sources["qcow2"]}, {"name": "broken", "url": sources["missing"]},
               {"name": "good-b", "url": sources["raw"]}]
    result, var = catalog_play(play, image_catalog_namespaces=[namespace], image_catalog_images=entries)
    assert result.rc != 0
    assert "VirtualImage %s/broken [image_catalog_images[1] (broken)]" % namespace in result.stdout
    assert "404" in result.stdout
    by_name = rows(result)
    assert by_name["%s/good-a" % namespace]["phase"] == "Ready"
    assert by_name["%s/good-b" % namespace]["phase"] == "Ready"
    assert by_name["%s/broken" % namespace]["result"] == "failed"
    assert by_name["%s/broken" % namespace]["phase"] == "Failed"
    assert result[var]["failed_images"] and len(result[var]["failed_images"]) == 1
    assert "good-b" in result.stdout  # the summary is printed despite the failure


def test_cluster_catalog_seed_rerun_prune(play, sandbox, k8s, sources):
    """ClusterVirtualImages: seed, unchanged re-run with zero writes, prune only what the catalog owns."""
    tag = uuid.uuid4().hex[:6]
    catalog = "cl-%s" % tag
    names = ["cl-a-%s" % tag, "cl-b-%s" % tag]
    entries = [{"name": names[0], "url": sources["qcow2"]}, {"name": names[1], "url": sources["raw"]}]
    cvis = k8s.resources.get(api_version=VI, kind="ClusterVirtualImage")
    foreign = "cl-foreign-%s" % tag
    cvis.create(body={"apiVersion": VI, "kind": "ClusterVirtualImage", "metadata": {"name": foreign},
                      "spec": {"dataSource": {"type": "HTTP", "http": {"url": sources["raw"]}}}})
    try:
        first, var = catalog_play(play, "cluster_image_catalog", cluster_image_catalog_name=catalog,
                                  cluster_image_catalog_images=entries)
        assert first.rc == 0, first.stdout
        assert {r["name"]: r["phase"] for r in first[var]["images"]} == {names[0]: "Ready", names[1]: "Ready"}
        sandbox.clear_audit()
        again, _output = catalog_play(play, "cluster_image_catalog", cluster_image_catalog_name=catalog,
                                      cluster_image_catalog_images=entries)
        assert again.rc == 0 and again[var]["changed"] is False
        assert writes(sandbox, [""]) == []
        pruned, _output = catalog_play(play, "cluster_image_catalog", cluster_image_catalog_name=catalog,
                                       cluster_image_catalog_images=entries[:1], cluster_image_catalog_prune=True)
        assert pruned.rc == 0, pruned.stdout
        assert [r["name"] for r in pruned[var]["pruned"]] == [names[1]]
        left = {item["metadata"]["name"] for item in cvis.get().to_dict()["items"]}
        assert names[0] in left and foreign in left and names[1] not in left
    finally:
        for name in names + [foreign]:
            try:
                cvis.delete(name=name)
            except Exception:
                pass


ARGUMENT_CASES = [
    ({"image_catalog_images": [{"name": "ok", "url": "http://h/x"},
                               {"name": "bad", "url": "http://h/y", "checksum": {"sha256": "abc"}}]},
     "image_catalog_images[1] (bad): source.http.checksum.sha256 must be 64 hex characters (or the http(s) URL of a "
     "sums file), got 3"),
    ({"image_catalog_images": [{"name": "typo", "url": "http://h/x", "lables": {"a": "b"}}]},
     "image_catalog_images[0] (typo): unknown field lables"),
    ({"image_catalog_images": [{"name": "two", "url": "http://h/x", "image": "r.example.com/a:1"}]},
     "image_catalog_images[0] (two): give exactly one of url, image, path, from, got url, image"),
    ({"image_catalog_images": [], "image_catalog_fanout": "everywhere"},
     "value of image_catalog_fanout must be one of: none, cluster, got: everywhere"),
    ({"image_catalog_images": "not-a-list"}, "image_catalog_images"),
]


def test_argument_errors_fail_before_any_write(play, sandbox, namespace):
    """Every case fails (in one playbook run, each in its own block) with the entry and field named."""
    sandbox.clear_audit()
    tasks = []
    for index, (variables, _message) in enumerate(ARGUMENT_CASES):
        tasks.append({"name": "case %d" % index, "block": [role("image_catalog", image_catalog_namespaces=[namespace],
                                                                **variables)],
                      "rescue": [{"name": "error of case %d" % index,
                                  "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg }}"},
                                  "register": "case%d" % index}]})
    result = play(tasks)
    assert result.rc == 0, result.stdout
    for index, (_variables, message) in enumerate(ARGUMENT_CASES):
        got = (result["case%d" % index] or {}).get("msg") or ""
        assert message in got, (index, got)
    assert writes(sandbox, [namespace, ""]) == []


def test_path_entry_uploads_then_stays_unchanged(play, sandbox, namespace, tmp_path):
    """A local file is uploaded through the upload library; the re-run sends no write and no bytes."""
    from sandbox import seed
    disk = seed.make_disk(tmp_path / "local.qcow2", "qcow2", 8 * 1024 * 1024)
    entries = [{"name": "uploaded", "path": str(disk)}]
    first, var = catalog_play(play, image_catalog_namespaces=[namespace], image_catalog_images=entries)
    assert first.rc == 0, first.stdout
    row = rows(first)["%s/uploaded" % namespace]
    assert row["result"] == "created" and row["phase"] == "Ready" and row["size"] == "8Mi" and row["format"] == "qcow2"
    sandbox.clear_audit()
    again, _output = catalog_play(play, image_catalog_namespaces=[namespace], image_catalog_images=entries)
    assert again.rc == 0 and again[var]["changed"] is False, again.stdout
    assert writes(sandbox, [namespace]) == []


def test_check_mode_stores_nothing(play, sandbox, k8s, second_namespace, sources):
    """Check mode on a catalog whose namespace does not exist yet: everything is 'would create', nothing stored."""
    sandbox.clear_audit()
    result, var = catalog_play(play, check=True, image_catalog_namespaces=[second_namespace],
                               image_catalog_create_namespaces=True,
                               image_catalog_images=[{"name": "disk", "url": sources["qcow2"]}])
    assert result.rc == 0, result.stdout
    assert result[var]["changed"] is True
    assert result[var]["created_namespaces"] == [second_namespace]
    assert [r["result"] for r in result[var]["images"]] == ["would create"]
    assert writes(sandbox, [second_namespace, ""], dry_run=False) == []
    names = {ns["metadata"]["name"] for ns in k8s.resources.get(api_version="v1", kind="Namespace").get().to_dict()["items"]}
    assert second_namespace not in names


def test_a_prune_of_an_image_a_vm_uses_is_held_until_the_vm_lets_go(play, sandbox, k8s, namespace, sources):
    """The platform would keep such an image Terminating while the VM runs: the catalog does not delete it, says
    who holds it, and a later run prunes it; one deleted already is reported as held, not as kept."""
    base = {"image_catalog_namespaces": [namespace], "image_catalog_name": "held"}
    entries = [{"name": "in-use", "url": sources["iso"]}, {"name": "stays", "url": sources["raw"]}]
    seeded, var = catalog_play(play, image_catalog_images=entries, **base)
    assert seeded.rc == 0, seeded.stdout
    vms = k8s.resources.get(api_version=VI, kind="VirtualMachine")
    vms.create(namespace=namespace, body={
        "apiVersion": VI, "kind": "VirtualMachine", "metadata": {"name": "user-vm"},
        "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOn", "cpu": {"cores": 1},
                 "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualImage", "name": "in-use"}]}})
    images = k8s.resources.get(api_version=VI, kind="VirtualImage")
    user = "VirtualMachine %s/user-vm" % namespace

    sandbox.clear_audit()
    held, _output = catalog_play(play, image_catalog_images=entries[1:], image_catalog_prune=True, **base)
    assert held.rc == 0, held.stdout
    (row,) = held[var]["pruned"]
    assert (row["name"], row["action"], row["result"], row["changed"], row["error"]) == (
        "in-use", "held", "in use, not pruned", False, ""), row
    assert row["note"] == "not pruned: used by %s; a later run prunes it once nothing uses it" % user
    assert re.search(r"%s +in-use +in use, not pruned" % namespace, held.stdout)
    assert writes(sandbox, [namespace]) == []
    assert not images.get(name="in-use", namespace=namespace).to_dict()["metadata"].get("deletionTimestamp")

    # Deleted by hand meanwhile: the platform holds it Terminating; the run says so and does not wait it out.
    images.delete(name="in-use", namespace=namespace)
    again, _output = catalog_play(play, image_catalog_images=entries[1:], image_catalog_prune=True, **base)
    assert again.rc == 0, again.stdout
    (row,) = again[var]["pruned"]
    assert (row["action"], row["note"]) == (
        "held", "being deleted; the platform holds it while it is used by %s" % user), row

    vms.delete(name="user-vm", namespace=namespace)
    freed, _output = catalog_play(play, image_catalog_images=entries[1:], image_catalog_prune=True, **base)
    assert freed.rc == 0, freed.stdout
    assert [(r["name"], r["result"]) for r in freed[var]["pruned"]] in ([("in-use", "deleted")], [])
    assert sorted(vi_names(k8s, namespace)) == ["stays"]
