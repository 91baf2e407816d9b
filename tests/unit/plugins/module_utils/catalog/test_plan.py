# -*- coding: utf-8 -*-
"""catalog/plan.py: what a catalog run does with each wanted and each owned live object (create, keep, patch,
refuse, recreate, delete)."""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import DELETE, HELD, plan
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import CATALOG_LABEL
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import Usage
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, KEEP, PATCH, RECREATE, REFUSE,
)
from ansible_collections.deckhouse.virtualization.tests.unit.helpers.catalog import wanted


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


def test_a_prune_of_an_image_in_use_is_held_and_only_prune_candidates_are_checked():
    owned = {CATALOG_LABEL: "base"}
    objs = wanted([{"name": "kept", "url": "https://h/k"}], namespaces=["a"])

    def stale(name, deleting=False):
        meta = {"name": name, "namespace": "a", "labels": owned}
        if deleting:
            meta["deletionTimestamp"] = "2026-12-07T10:00:00Z"
        return {"metadata": meta, "spec": {}, "status": {"phase": "Ready"}}

    scope = [(VIRTUAL_IMAGE, "a", name, stale(name, name == "gone-held")) for name in
             ("free", "used", "unknown", "gone-held")]
    users = {"used": Usage(["VirtualMachine a/web"], []), "unknown": Usage([], [], complete=False),
             "gone-held": Usage(["VirtualMachine a/db"], [])}
    asked = []

    def usage(kind, obj):
        asked.append((kind.kind, obj["metadata"]["name"]))
        return users.get(obj["metadata"]["name"], Usage([], []))

    actions = {a.name: a for a in plan(objs, {}, "base", scope, usage=usage)}
    assert sorted(asked) == sorted(("VirtualImage", name) for name in ("free", "used", "unknown", "gone-held"))
    assert (actions["free"].verb, actions["free"].message) == (DELETE, "")
    assert (actions["used"].verb, actions["used"].message) == (
        HELD, "not pruned: used by VirtualMachine a/web; a later run prunes it once nothing uses it")
    assert actions["unknown"].verb == HELD and "cannot tell whether it is in use" in actions["unknown"].message
    assert (actions["gone-held"].verb, actions["gone-held"].message) == (
        HELD, "being deleted; the platform holds it while it is used by VirtualMachine a/db")
    assert actions["kept"].verb == CREATE
