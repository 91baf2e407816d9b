# -*- coding: utf-8 -*-
"""The catalog library: entries -> wanted objects -> a plan, and the summary table."""

from __future__ import annotations

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import (
    hub_name, parse_catalog, parse_entry, wanted_objects,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import DELETE, plan
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.report import result_row, table
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import CATALOG_LABEL, FANOUT_LABEL
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, KEEP, PATCH, RECREATE, REFUSE,
)


def params(images, **kw):
    base = {"catalog": "base", "namespaces": ["a", "b"], "images": images, "definitions": [], "fanout": "none",
            "wait_timeout": 10, "images_option": "image_catalog_images"}
    base.update(kw)
    return base


def wanted(images, namespaces=("a", "b"), fanout="none", kind=VIRTUAL_IMAGE):
    entries = parse_catalog(params(images, namespaces=list(namespaces) if kind.namespaced else None,
                                   fanout=fanout), kind)
    return wanted_objects(entries, kind, list(namespaces) if kind.namespaced else [None], "base", fanout)


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "url": "https://h/a", "image": "r.example.com/a:1"},
     "image_catalog_images[0] (x): give exactly one of url, image, path, from, got url, image"),
    ({"name": "x"}, "image_catalog_images[0] (x): give exactly one of url, image, path, from, got none"),
    ({"name": "x", "url": "https://h/a", "colour": "red"}, "image_catalog_images[0] (x): unknown field colour"),
    ({"name": "x", "url": "https://h/a", "checksum": {"sha256": "ab"}},
     "image_catalog_images[0] (x): source.http.checksum.sha256 must be 64 hex characters (or the http(s) URL of a sums file), got 2"),
    ({"name": "x", "url": "https://h/a", "checksum": {"crc32": "ab"}},
     "image_catalog_images[0] (x): checksum.crc32 is not a known algorithm"),
    ({"name": "x", "image": "r.example.com/a:1", "checksum": {"md5": "a" * 32}},
     "image_catalog_images[0] (x): checksum cannot be used with image"),
    ({"name": "x.y", "url": "https://h/a"}, "'.' is forbidden"),
    ({"name": "x", "url": "https://h/a", "storage": "Disk"}, "storage must be one of"),
    ({"url": "https://h/a"}, "image_catalog_images[0]: name is required"),
    ({"name": "x", "from": {"kind": "VirtualImage"}}, "from must be an object reference"),
])
def test_entry_errors_name_the_entry_and_field(entry, message):
    with pytest.raises(ValidationError) as err:
        parse_catalog(params([{"name": "ok", "url": "https://h/ok"}] + [entry]), VIRTUAL_IMAGE)
    assert message.replace("[0]", "[1]") in err.value.msg


def test_duplicate_names_and_missing_namespaces_are_rejected():
    with pytest.raises(ValidationError, match=r"images\[1\] \(x\): the name x is already used by .*images\[0\]"):
        parse_catalog(params([{"name": "x", "url": "https://h/a"}, {"name": "x", "url": "https://h/b"}]),
                      VIRTUAL_IMAGE)
    with pytest.raises(ValidationError, match="namespaces must list at least one namespace"):
        parse_catalog(params([], namespaces=[]), VIRTUAL_IMAGE)


def test_cluster_entries_take_no_storage_and_a_secret_mapping():
    with pytest.raises(ValidationError, match="unknown field storage"):
        parse_entry(0, {"name": "x", "url": "https://h/a", "storage": "PersistentVolumeClaim"},
                    CLUSTER_VIRTUAL_IMAGE, "base")
    entry = parse_entry(0, {"name": "x", "image": "r.example.com/a:1",
                            "image_pull_secret": {"name": "pull", "namespace": "ns"}}, CLUSTER_VIRTUAL_IMAGE, "base")
    assert entry.options.source["container_image"]["image_pull_secret"] == {"name": "pull", "namespace": "ns"}


def test_every_namespace_gets_every_entry_with_the_owner_label():
    objs = wanted([{"name": "d", "url": "https://h/d.qcow2", "labels": {"os": "x"}}])
    assert [(w.namespace, w.manifest["metadata"]["name"]) for w in objs] == [("a", "d"), ("b", "d")]
    manifest = objs[1].manifest
    assert manifest["metadata"] == {"name": "d", "namespace": "b", "labels": {"os": "x", CATALOG_LABEL: "base"}}
    assert manifest["spec"] == {"storage": "ContainerRegistry",
                                "dataSource": {"type": "HTTP", "http": {"url": "https://h/d.qcow2"}}}


def test_fanout_shares_one_hub_per_distinct_source():
    objs = wanted([{"name": "d", "url": "https://h/d"}, {"name": "same", "url": "https://h/d"},
                   {"name": "other", "url": "https://h/o"}, {"name": "copy", "from": {"kind": "VirtualImage",
                                                                                      "name": "d"}}],
                  fanout="cluster")
    hubs = [w for w in objs if w.kind is CLUSTER_VIRTUAL_IMAGE]
    assert len(hubs) == 2
    assert hubs[0].manifest["metadata"] == {"name": hub_name("base", {"type": "HTTP", "http": {"url": "https://h/d"}}),
                                            "labels": {FANOUT_LABEL: "base"}}
    images = {(w.namespace, w.manifest["metadata"]["name"]): w for w in objs if w.kind is VIRTUAL_IMAGE}
    assert images[("b", "same")].manifest["spec"]["dataSource"] == {
        "type": "ObjectRef", "objectRef": {"kind": "ClusterVirtualImage", "name": hubs[0].manifest["metadata"]["name"]}}
    assert images[("a", "copy")].hub is None  # in-namespace copies are not fanned out
    assert hub_name("base", {"type": "HTTP", "http": {"url": "https://h/d"}}) == hubs[0].manifest["metadata"]["name"]


def test_manifest_pinned_to_a_namespace_goes_only_there():
    manifest = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
                "metadata": {"name": "m", "namespace": "b"},
                "spec": {"dataSource": {"type": "HTTP", "http": {"url": "https://h/m"}}}}
    entries = parse_catalog(params([], definitions=[{"origin": "m.yaml", "manifest": manifest}]), VIRTUAL_IMAGE)
    objs = wanted_objects(entries, VIRTUAL_IMAGE, ["a", "b"], "base", "none")
    assert [(w.namespace, w.manifest["metadata"]["labels"]) for w in objs] == [("b", {CATALOG_LABEL: "base"})]


def live_from(item, phase="Ready", labels=None, spec=None):
    meta = dict(item.manifest["metadata"])
    if labels is not None:
        meta["labels"] = labels
    return {"metadata": meta, "spec": spec or item.manifest["spec"], "status": {"phase": phase}}


def test_plan_creates_keeps_patches_refuses_and_prunes_only_owned():
    objs = wanted([{"name": "new", "url": "https://h/n"}, {"name": "same", "url": "https://h/s"},
                   {"name": "relabel", "url": "https://h/r", "labels": {"t": "2"}},
                   {"name": "moved", "url": "https://h/m2"}, {"name": "foreign", "url": "https://h/f"}],
                  namespaces=["a"])
    by_name = {w.manifest["metadata"]["name"]: w for w in objs}
    owned = {CATALOG_LABEL: "base"}
    stale = {"metadata": {"name": "stale", "namespace": "a", "labels": owned}, "spec": {}, "status": {}}
    live = {
        ("VirtualImage", "a", "same"): live_from(by_name["same"]),
        ("VirtualImage", "a", "relabel"): live_from(by_name["relabel"], labels={"t": "1", **owned}),
        ("VirtualImage", "a", "moved"): live_from(by_name["moved"], spec={
            "storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": "https://h/m1"}}}),
        ("VirtualImage", "a", "foreign"): live_from(by_name["foreign"], labels={}),
    }
    actions = plan(objs, live, "base", [(VIRTUAL_IMAGE, "a", "stale", stale)])
    verbs = {a.name: a.verb for a in actions}
    assert verbs == {"new": CREATE, "same": KEEP, "relabel": PATCH, "moved": REFUSE, "foreign": REFUSE,
                     "stale": DELETE}
    relabel = next(a for a in actions if a.name == "relabel")
    assert relabel.patch == {"metadata": {"labels": {"t": "2"}}}
    moved = next(a for a in actions if a.name == "moved")
    assert "differing fields: spec.dataSource.http.url" in moved.message
    foreign = next(a for a in actions if a.name == "foreign")
    assert "is not owned by a catalog" in foreign.message
    # with recreate, only the owned provisioned image whose spec changed is replaced; foreign ones stay refused
    again = {a.name: a.verb for a in plan(objs, live, "base", [(VIRTUAL_IMAGE, "a", "stale", stale)], recreate=True)}
    assert again == dict(verbs, moved=RECREATE)


def test_spec_change_before_ready_is_patched():
    objs = wanted([{"name": "m", "url": "https://h/new"}], namespaces=["a"])
    old = live_from(objs[0], phase="Failed", labels={CATALOG_LABEL: "base"}, spec={
        "storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": "https://h/old"}}})
    (action,) = plan(objs, {("VirtualImage", "a", "m"): old}, "base")
    assert action.verb == PATCH and action.patch == {"spec": {"dataSource": {"http": {"url": "https://h/new"}}}}


def test_table_has_one_line_per_row_and_failure_messages():
    objs = wanted([{"name": "good", "url": "https://h/g"}, {"name": "bad", "url": "https://h/b"}], namespaces=["a"])
    actions = plan(objs, {}, "base")
    ready = {"status": {"phase": "Ready", "format": "qcow2", "size": {"unpacked": "4Mi", "stored": "1Mi"}}}
    rows = [result_row(actions[0], ready, True, "", 1.25, [], False),
            result_row(actions[1], {"status": {"phase": "Failed"}}, True, "VirtualImage a/bad: phase Failed: 404",
                       0.5, [], False)]
    assert rows[0]["result"] == "created" and rows[0]["size"] == "4Mi" and rows[0]["stored_size"] == "1Mi"
    assert rows[1]["result"] == "failed"
    lines = table(rows)
    assert lines[0].split() == ["NAMESPACE", "IMAGE", "RESULT", "PHASE", "SIZE", "FORMAT", "TIME"]
    assert lines[1].split() == ["a", "good", "created", "Ready", "4Mi", "qcow2", "1.2s"]
    assert lines[2].split() == ["a", "bad", "failed", "Failed", "-", "-", "0.5s"]
    assert lines[3] == "  ! VirtualImage a/bad: phase Failed: 404"


def test_a_run_stopped_midway_is_finished_not_refused():
    """An owned image left terminating by a run killed between delete and create is recreated; an owned prune
    left terminating is deleted again (and so waited for)."""
    objs = wanted([{"name": "half", "url": "https://h/n"}], namespaces=["a"])
    dying = {"deletionTimestamp": "2026-01-01T00:00:00Z"}
    half = live_from(objs[0], labels={CATALOG_LABEL: "base"})
    half["metadata"].update(dying)
    gone = {"metadata": dict(dying, name="gone", namespace="a", labels={CATALOG_LABEL: "base"}), "spec": {}}
    actions = plan(objs, {("VirtualImage", "a", "half"): half}, "base", [(VIRTUAL_IMAGE, "a", "gone", gone)])
    assert [(a.name, a.verb) for a in actions] == [("half", RECREATE), ("gone", DELETE)]
    assert "an earlier run was stopped" in actions[0].message
