"""cluster_virtual_image and virtual_image_info against the sandbox."""
from __future__ import annotations

import yaml

CVI_MOD = "deckhouse.virtualization.cluster_virtual_image"
VI_MOD = "deckhouse.virtualization.virtual_image"
INFO = "deckhouse.virtualization.virtual_image_info"


def test_cluster_image_lifecycle(play, namespace, sources, admin_writes):
    """Create from http and from a namespaced VI; rerun without writes; immutable after Ready; absent."""
    http_cvi = "%s-http" % namespace
    ref_cvi = "%s-ref" % namespace
    tasks = [
        {VI_MOD: {"name": "origin", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}},
         "register": "origin"},
        {CVI_MOD: {"name": http_cvi, "labels": {"suite": namespace}, "source": {"http": {"url": sources["raw"]}}},
         "register": "http_cvi"},
        {CVI_MOD: {"name": ref_cvi, "labels": {"suite": namespace},
                   "source": {"object_ref": {"kind": "VirtualImage", "name": "origin", "namespace": namespace}}},
         "register": "ref_cvi"},
    ]
    first = play(tasks)
    assert first.rc == 0, first.stdout
    assert first["http_cvi"]["changed"] and first["http_cvi"]["phase"] == "Ready"
    assert first["ref_cvi"]["image"]["status"]["sourceUID"] == first["origin"]["image"]["metadata"]["uid"]
    assert "/cvi/%s:" % http_cvi in first["http_cvi"]["image"]["status"]["target"]["registryURL"]

    admin_writes.clear()
    again = play(tasks + [
        {CVI_MOD: {"name": http_cvi, "source": {"http": {"url": sources["qcow2"]}}},
         "register": "immutable", "ignore_errors": True},
        {INFO: {"cluster": True, "label_selectors": ["suite=%s" % namespace]}, "register": "listed"},
        {INFO: {"cluster": True, "name": ref_cvi, "phase": ["Failed"]}, "register": "none_failed"},
    ])
    assert not any(again[n]["changed"] for n in ("origin", "http_cvi", "ref_cvi"))
    assert admin_writes(None, "clustervirtualimages") == [] and admin_writes(namespace) == []
    assert "spec.dataSource.http.url" in again["immutable"]["msg"]
    assert "recreate: true" in again["immutable"]["msg"]
    listed = again["listed"]
    assert [s["name"] for s in listed["summary"]] == sorted([http_cvi, ref_cvi])
    assert [i["metadata"]["name"] for i in listed["images"]] == [s["name"] for s in listed["summary"]]
    assert all(s["phase"] == "Ready" and s["namespace"] is None and s["registry_url"] for s in listed["summary"])
    assert again["none_failed"]["images"] == []

    gone = play([{CVI_MOD: {"name": n, "state": "absent"}, "register": n.replace("-", "_")}
                 for n in (http_cvi, ref_cvi)] +
                [{INFO: {"cluster": True, "label_selectors": ["suite=%s" % namespace]}, "register": "after"}])
    assert gone.rc == 0, gone.stdout
    assert gone["after"]["images"] == []


def test_info_summary_filters_and_empty_namespace(play, namespace, sources, sandbox):
    with open(sandbox.kubeconfig, encoding="utf-8") as stream:
        kubeconfig_dict = yaml.safe_load(stream)
    run = play([
        {VI_MOD: {"name": "listed-a", "namespace": namespace, "labels": {"os": "x"},
                  "source": {"http": {"url": sources["iso"]}}}, "register": "a"},
        {VI_MOD: {"name": "listed-b", "namespace": namespace, "storage": "PersistentVolumeClaim",
                  "source": {"http": {"url": sources["qcow2"]}}}, "register": "b"},
        {INFO: {"namespace": namespace}, "register": "all"},
        {INFO: {"namespace": namespace, "label_selectors": ["os=x"]}, "register": "by_label"},
        {INFO: {"namespace": namespace, "name": "listed-b"}, "register": "by_name"},
        {INFO: {"namespace": namespace, "phase": ["Pending", "Failed"]}, "register": "by_phase"},
        {INFO: {"namespace": "default", "label_selectors": ["no-such-label"]}, "register": "empty"},
        {INFO: {"kubeconfig": kubeconfig_dict}, "register": "everywhere"},
    ])
    assert run.rc == 0, run.stdout
    summary = run["all"]["summary"]
    assert [s["name"] for s in summary] == ["listed-a", "listed-b"]
    iso, pvc = summary
    assert (iso["format"], iso["cdrom"], iso["phase"], iso["progress"]) == ("iso", True, "Ready", "100%")
    assert iso["ready_reason"] == "Ready" and iso["registry_url"] and iso["stored_size"] and iso["unpacked_size"]
    assert pvc["pvc_name"].startswith("d8v-vi-listed-b-") and pvc["registry_url"] is None
    assert [s["name"] for s in run["by_label"]["summary"]] == ["listed-a"]
    assert [i["metadata"]["name"] for i in run["by_name"]["images"]] == ["listed-b"]
    assert run["by_phase"]["images"] == []
    assert run["empty"] == {"changed": False, "images": [], "summary": [], "failed": False} or \
        (run["empty"]["images"] == [] and run["empty"]["summary"] == [])
    assert {"listed-a", "listed-b"} <= {s["name"] for s in run["everywhere"]["summary"]
                                        if s["namespace"] == namespace}
