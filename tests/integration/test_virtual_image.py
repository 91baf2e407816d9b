"""virtual_image against the sandbox: every source kind, both storages, and the whole lifecycle.

Several cases share one ansible-playbook run (each run costs ~2-3 s).
"""
from __future__ import annotations

import base64
import json
from typing import Any

import yaml

VI = "virtualization.deckhouse.io/v1alpha2"
MOD = "deckhouse.virtualization.virtual_image"


def vi_api(k8s: Any) -> Any:
    return k8s.resources.get(api_version=VI, kind="VirtualImage")


def get_vi(k8s: Any, ns: str, name: str) -> Any:
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        return vi_api(k8s).get(name=name, namespace=ns).to_dict()
    except NotFoundError:
        return None


def test_every_source_kind_and_storage_then_idempotent(play, namespace, sources, registry_image, k8s,
                                                       admin_writes, tmp_path):
    """Create from http (DVCR, https+CA), PVC storage, registry with credentials, object_ref, definition, src."""
    src_file = tmp_path / "src-vi.yaml"
    src_file.write_text(yaml.safe_dump({
        "apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": "from-src", "namespace": namespace},
        "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": sources["raw"]}}}}))
    definition = yaml.safe_dump({
        "apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": "from-def", "labels": {"via": "definition"}},
        "spec": {"dataSource": {"type": "HTTP", "http": {"url": sources["qcow2"]}}}})
    tasks = [
        {"name": "http into DVCR", MOD: {"name": "http-dvcr", "namespace": namespace, "labels": {"os": "test"},
                                         "source": {"http": {"url": sources["qcow2"]}}}, "register": "http_dvcr"},
        {"name": "https with a CA and checksum into a PVC",
         MOD: {"name": "https-pvc", "namespace": namespace, "storage": "PersistentVolumeClaim",
               "storage_class": "local-path",
               "source": {"http": {"url": sources["https_raw"], "ca_bundle": registry_image["ca"]}}},
         "register": "https_pvc"},
        {"name": "registry with credentials",
         MOD: {"name": "from-registry", "namespace": namespace,
               "source": {"container_image": {"image": registry_image["image"], "ca_bundle": registry_image["ca"],
                                              "registry_credentials": {"username": registry_image["username"],
                                                                       "password": registry_image["password"]}}}},
         "register": "registry"},
        {"name": "object_ref to the first", MOD: {"name": "copy", "namespace": namespace,
                                                  "source": {"object_ref": {"kind": "VirtualImage",
                                                                            "name": "http-dvcr"}}},
         "register": "copy"},
        {"name": "definition as YAML text", MOD: {"namespace": namespace, "definition": definition},
         "register": "from_def"},
        {"name": "src resolved by the action plugin", MOD: {"src": str(src_file)}, "register": "from_src"},
    ]
    first = play(tasks)
    assert first.rc == 0, first.stdout
    for name in ("http_dvcr", "https_pvc", "registry", "copy", "from_def", "from_src"):
        result = first[name]
        assert result["changed"] is True, name
        assert result["phase"] == "Ready" and result["progress"] == "100%", (name, result.get("msg"))
        assert [p["phase"] for p in result["phases"]][-1] == "Ready"
        assert result["duration"] >= 0
    assert first["https_pvc"]["image"]["status"]["target"]["persistentVolumeClaimName"].startswith("d8v-vi-https-pvc-")
    assert first["copy"]["image"]["status"]["sourceUID"] == first["http_dvcr"]["image"]["metadata"]["uid"]
    assert first["from_def"]["image"]["metadata"]["labels"] == {"via": "definition"}
    # the registry password is no_log: never in the output
    assert registry_image["password"] not in first.stdout

    # the owned pull secret: right type and content, label, owner reference to the image
    secret = k8s.resources.get(api_version="v1", kind="Secret").get(
        name="from-registry-registry-credentials", namespace=namespace).to_dict()
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert registry_image["image"].split("/")[0] in config["auths"]
    owner = secret["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"]) == ("VirtualImage", first["registry"]["image"]["metadata"]["uid"])

    # second run: nothing changes and not a single write is sent
    admin_writes.clear()
    second = play(tasks)
    assert second.rc == 0, second.stdout
    names = ("http_dvcr", "https_pvc", "registry", "copy", "from_def", "from_src")
    assert all(second[n]["changed"] is False for n in names)
    assert admin_writes(namespace) == []
    assert "VirtualImage %s/" % namespace not in second.stdout  # progress lines only at -v

    # new credentials update the owned Secret only; then absent removes every image (and the Secret)
    rotated = dict(tasks[2][MOD], source={"container_image": dict(
        tasks[2][MOD]["source"]["container_image"],
        registry_credentials={"username": registry_image["username"], "password": "rotated-Pa55"})})
    admin_writes.clear()
    gone = play([{MOD: rotated, "register": "rotated"}] +
                [{MOD: {"name": n, "namespace": namespace, "state": "absent"}, "register": n.replace("-", "_")}
                 for n in ("http-dvcr", "https-pvc", "from-registry", "copy", "from-def", "from-src")] +
                [{MOD: {"name": "copy", "namespace": namespace, "state": "absent"}, "register": "again"}])
    assert gone.rc == 0, gone.stdout
    assert gone["rotated"]["changed"] is True and "rotated-Pa55" not in gone.stdout
    assert [w["method"] for w in admin_writes(namespace, "secrets")][:1] == ["PATCH"]
    assert gone["from_registry"]["changed"] is True and gone["from_registry"]["image"] is None
    assert gone["again"]["changed"] is False
    assert vi_api(k8s).get(namespace=namespace).to_dict()["items"] == []
    secrets = k8s.resources.get(api_version="v1", kind="Secret").get(namespace=namespace).to_dict()["items"]
    assert [s["metadata"]["name"] for s in secrets] == []


def test_changes_recreate_check_mode_and_diff(play, namespace, sources, k8s, admin_writes):
    """Labels patched in place; spec change refused after Ready, patched before it; recreate; check mode."""
    base = {"name": "img", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}}
    keep = {"name": "keep", "namespace": namespace, "source": {"http": {"url": sources["raw"]}}}
    blocked = {"name": "late", "namespace": namespace,
               "source": {"object_ref": {"kind": "VirtualImage", "name": "not-there"}}, "wait_timeout": 2}
    setup = play([{MOD: base, "register": "img"}, {MOD: keep, "register": "keep"},
                  {MOD: blocked, "register": "blocked", "ignore_errors": True}])
    assert setup.rc == 0, setup.stdout
    msg = setup["blocked"]["msg"]
    assert "timed out after 2s" in msg and "last phase Pending" in msg
    assert "blocked: DatasourceReady False/ImageNotReady: VirtualImage not-there not ready." in msg
    before = get_vi(k8s, namespace, "img")
    admin_writes.clear()

    changed_url = dict(base, source={"http": {"url": sources["raw"]}})
    run = play([
        {MOD: dict(base, labels={"tier": "gold"}, annotations={"note": "x"}), "register": "relabel"},
        {MOD: changed_url, "register": "immutable", "ignore_errors": True},
        {MOD: dict(changed_url, recreate=True), "register": "recreated"},
        {MOD: dict(blocked, source={"http": {"url": sources["qcow2"]}}, wait_timeout=60), "register": "fixed"},
        {MOD: {"name": "ghost", "namespace": namespace, "source": {"http": {"url": sources["raw"]}}},
         "register": "check_create", "check_mode": True},
        {MOD: dict(keep, labels={"a": "b"}), "register": "check_update", "check_mode": True},
        {MOD: {"name": "keep", "namespace": namespace, "state": "absent"}, "register": "check_delete",
         "check_mode": True},
    ], diff=True)
    assert run.rc == 0, run.stdout

    relabel = run["relabel"]
    assert relabel["changed"] is True
    assert relabel["diff"]["after"]["metadata"]["labels"] == {"tier": "gold"}
    assert "labels" not in relabel["diff"]["before"]["metadata"]
    assert relabel["image"]["metadata"]["generation"] == before["metadata"]["generation"]

    immutable = run["immutable"]
    assert immutable["failed"] is True
    assert "spec.dataSource.http.url" in immutable["msg"] and "recreate: true" in immutable["msg"]
    assert immutable["differing_fields"] == ["spec.dataSource.http.url"]

    recreated = run["recreated"]
    assert recreated["changed"] is True and recreated["phase"] == "Ready"
    assert recreated["image"]["metadata"]["uid"] != before["metadata"]["uid"]
    assert recreated["image"]["spec"]["dataSource"]["http"]["url"] == sources["raw"]
    assert recreated["diff"]["before"]["spec"]["dataSource"]["http"]["url"] == sources["qcow2"]

    fixed = run["fixed"]  # before Ready: the spec is patched and the import restarts
    assert fixed["changed"] is True and fixed["phase"] == "Ready"
    assert fixed["image"]["metadata"]["uid"] == setup["blocked"]["image"]["metadata"]["uid"]
    assert fixed["image"]["metadata"]["generation"] == 2

    assert run["check_create"]["changed"] and run["check_create"]["diff"]["before"] == {}
    assert run["check_create"]["diff"]["after"]["spec"]["dataSource"]["http"]["url"] == sources["raw"]
    assert run["check_update"]["changed"] and run["check_update"]["diff"]["after"]["metadata"]["labels"] == {"a": "b"}
    assert run["check_delete"]["changed"] and run["check_delete"]["diff"]["after"] == {}
    assert run["check_delete"]["diff"]["before"]["metadata"]["name"] == "keep"
    assert get_vi(k8s, namespace, "ghost") is None
    kept = get_vi(k8s, namespace, "keep")
    assert kept is not None and not kept["metadata"].get("labels")

    writes = admin_writes(namespace)
    # real: label PATCH, nothing for the refused change, DELETE + POST to recreate, spec PATCH of "late";
    # check mode: only dry runs
    assert [w["method"] for w in writes if not w["dryRun"]] == ["PATCH", "DELETE", "POST", "PATCH"], writes
    assert [w["method"] for w in writes if w["dryRun"]] == ["POST", "PATCH", "DELETE"], writes


def test_images_return_the_flat_summary_disks_do(play, namespace, sources):
    run = play([{"deckhouse.virtualization.virtual_image": {
        "name": "summed", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}}, "register": "made"},
        {"deckhouse.virtualization.virtual_image_info": {"namespace": namespace, "name": "summed"},
         "register": "info"}])
    assert run.rc == 0, run.fatal()
    summary = run["made"]["summary"]
    listed = run["info"]["summary"][0]
    assert summary["phase"] == "Ready" and summary["format"] == "qcow2"
    assert summary["unpacked_size_bytes"] == int(run["made"]["image"]["status"]["size"]["unpackedBytes"])
    assert summary == {k: v for k, v in listed.items() if k in summary}, (summary, listed)
