# -*- coding: utf-8 -*-
"""Tracks decided from state: which version is newest, which are kept (and why), which are deleted, oldest first."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import (
    Track, parse_entry, wanted_objects,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.tracks import (
    newest_patch, numbered, plan_track, step_row,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    NEWEST_LABEL, SEQUENCE_ANNOTATION, TRACK_LABEL, VERSION_LABEL,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import Usage

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
TRACK = Track("noble", 2, "v4")


def version(name: str, number: int, phase: str = "Ready", newest: bool = False) -> Dict[str, Any]:
    labels = {TRACK_LABEL: "noble"}
    if newest:
        labels[NEWEST_LABEL] = "true"
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels,
                         "annotations": {SEQUENCE_ANNOTATION: str(number)}}, "status": {"phase": phase}}


def unused(_obj: Any) -> Usage:
    return Usage([], [])


def names(objs: List[Dict[str, Any]]) -> List[str]:
    return [obj["metadata"]["name"] for obj in objs]


def test_versions_past_the_newest_n_are_deleted_oldest_first_and_the_label_moves() -> None:
    members = [version("noble-v1", 1), version("noble-v3", 3, newest=True), version("noble-v2", 2),
               version("noble-v4", 4)]
    step = plan_track(TRACK, VIRTUAL_IMAGE, "ns", members[3], True, members, unused)
    assert step.add_label and names(step.remove_label) == ["noble-v3"]
    assert names(step.delete) == ["noble-v1", "noble-v2"]
    assert [(k.name, k.reason) for k in step.kept] == [("noble-v3", "one of the newest 2")]
    row = step_row(step, "", check_mode=False)
    assert (row["label"], row["previous_newest"], row["deleted"]) == ("moved", "noble-v3", ["noble-v1", "noble-v2"])


def test_a_version_in_use_is_kept_with_what_uses_it_and_one_we_cannot_check_is_kept_too() -> None:
    members = [version("noble-v1", 1), version("noble-v2", 2), version("noble-v3", 3), version("noble-v4", 4)]
    usage = {"noble-v1": Usage(["VirtualDisk ns/d1"], []), "noble-v2": Usage([], [], complete=False)}
    step = plan_track(Track("noble", 1, "v4"), VIRTUAL_IMAGE, "ns", members[3], True, members,
                      lambda obj: usage.get(obj["metadata"]["name"], Usage([], [])))
    assert names(step.delete) == ["noble-v3"]
    kept = {k.name: k for k in step.kept}
    assert kept["noble-v1"].used_by == ["VirtualDisk ns/d1"] and kept["noble-v1"].reason == "used by VirtualDisk ns/d1"
    assert kept["noble-v2"].reason.startswith("cannot tell whether it is in use")


def terminating(obj: Dict[str, Any]) -> Dict[str, Any]:
    obj["metadata"]["deletionTimestamp"] = "2026-12-07T10:00:00Z"
    return obj


@pytest.mark.parametrize("ready", [True, False])
def test_a_version_being_deleted_that_a_vm_holds_is_listed_as_held_not_kept(ready: bool) -> None:
    members = [terminating(version("noble-v1", 1)), terminating(version("noble-v2", 2)), version("noble-v3", 3)]
    usage = {"noble-v1": Usage(["VirtualMachine ns/web"], [])}
    step = plan_track(Track("noble", 1, "v3"), VIRTUAL_IMAGE, "ns", members[2], ready, members,
                      lambda obj: usage.get(obj["metadata"]["name"], Usage([], [])), "provisioning")
    assert [k.name for k in step.kept] == []
    assert [(k.name, k.reason, k.used_by) for k in step.held] == [
        ("noble-v1", "being deleted; the platform holds it while it is used by VirtualMachine ns/web",
         ["VirtualMachine ns/web"])]
    row = step_row(step, "", False)
    assert row["held"][0]["name"] == "noble-v1" and row["kept"] == []


def test_a_cluster_image_used_in_namespaces_is_kept() -> None:
    members = [version("noble-v1", 1), version("noble-v2", 2)]
    step = plan_track(Track("noble", 1, "v2"), VIRTUAL_IMAGE, None, members[1], True, members,
                      lambda obj: Usage([], ["team-a", "team-b"]))
    assert step.delete == [] and step.kept[0].used_by == ["namespace team-a", "namespace team-b"]
    assert step.kept[0].reason == "used in namespaces team-a, team-b"


def test_todays_version_not_ready_moves_nothing_and_deletes_nothing() -> None:
    members = [version("noble-v1", 1, newest=True), version("noble-v2", 2), version("noble-v3", 3)]
    current = version("noble-v4", 4, phase="Failed")
    step = plan_track(Track("noble", 1, "v4"), VIRTUAL_IMAGE, "ns", current, False, members + [current], unused,
                      "checksum mismatch")
    assert not step.writes and not step.ready
    assert {k.reason for k in step.kept} == {"noble-v4 is not Ready: checksum mismatch"}
    assert step_row(step, "", False)["label"] == "waiting"


def test_failed_older_versions_do_not_count_among_those_kept() -> None:
    members = [version("noble-v1", 1), version("noble-v2", 2, phase="Failed"), version("noble-v3", 3)]
    step = plan_track(Track("noble", 2, "v3"), VIRTUAL_IMAGE, "ns", members[2], True, members, unused)
    assert [k.name for k in step.kept] == ["noble-v1"] and names(step.delete) == ["noble-v2"]


def test_the_label_already_in_place_is_not_written_again() -> None:
    members = [version("noble-v1", 1), version("noble-v2", 2, newest=True)]
    step = plan_track(TRACK._replace(version="v2"), VIRTUAL_IMAGE, "ns", members[1], True, members, unused)
    assert not step.writes and step_row(step, "", False)["label"] == "unchanged"


def entry(**raw: Any):
    return parse_entry(0, dict({"name": "noble", "url": "https://h/noble.img"}, **raw), VIRTUAL_IMAGE, "gold")


def test_a_track_entry_names_its_image_by_version_or_digest_and_labels_it() -> None:
    by_digest = entry(checksum={"sha256": DIGEST}, keep=3)
    assert by_digest.track == Track("noble", 3, DIGEST[:12]) and by_digest.options.name == "noble-" + DIGEST[:12]
    assert by_digest.options.labels[TRACK_LABEL] == "noble" and by_digest.options.labels[VERSION_LABEL] == DIGEST[:12]
    assert entry(version="2404-1", keep=1).options.name == "noble-2404-1"
    assert entry().track is None and entry().options.name == "noble"


@pytest.mark.parametrize("raw, message", [
    ({"keep": 0, "version": "a"}, "images[0] (noble): keep must be at least 1 (the newest version is always kept), "
                                  "got 0"),
    ({"keep": True, "version": "a"}, "images[0] (noble): keep must be a whole number, got bool"),
    ({"version": "a"}, "images[0] (noble): version needs keep"),
    ({"keep": 2}, "images[0] (noble): keep needs version, or a checksum whose digest names the versions"),
    ({"keep": 2, "version": "24.04"}, "images[0] (noble): version '24.04' is not a valid name part"),
])
def test_bad_track_fields_are_named(raw: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        entry(**raw)
    assert err.value.msg.startswith(message)


def test_todays_version_is_numbered_after_the_newest_member_or_keeps_its_number() -> None:
    item = wanted_objects([entry(version="v5", keep=2)], VIRTUAL_IMAGE, ["ns"], "gold", "none")[0]
    members = [version("noble-v1", 1), version("noble-v3", 7)]
    fresh = numbered(item, None, members)
    assert fresh.manifest["metadata"]["annotations"][SEQUENCE_ANNOTATION] == "8"
    live: Optional[Dict[str, Any]] = version("noble-v5", 3)
    assert numbered(item, live, members).manifest["metadata"]["annotations"][SEQUENCE_ANNOTATION] == "3"
    assert SEQUENCE_ANNOTATION not in (item.manifest["metadata"].get("annotations") or {})   # a copy, not an edit


def test_a_fixed_version_whose_source_changed_is_refused_even_with_recreate() -> None:
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import plan
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import CATALOG_LABEL
    item = wanted_objects([entry(version="v5", keep=2, checksum={"sha256": DIGEST})], VIRTUAL_IMAGE, ["ns"], "gold",
                          "none")[0]
    live = {"metadata": dict(item.manifest["metadata"], labels={CATALOG_LABEL: "gold"}),
            "spec": dict(item.manifest["spec"], dataSource={"type": "HTTP", "http": {
                "url": "https://h/noble.img", "checksum": {"sha256": "0" * 64}}}),
            "status": {"phase": "Ready"}}
    action = plan([item], {("VirtualImage", "ns", "noble-v5"): live}, "gold", recreate=True)[0]
    assert action.verb == "refuse"
    assert action.message.startswith("VirtualImage ns/noble-v5 is version v5 of the track noble and its source "
                                     "changed (differing fields: spec.dataSource.http.checksum.sha256); a track never "
                                     "replaces a version in place")


def test_a_track_that_left_the_catalog_deletes_its_versions_unless_in_use() -> None:
    members = [version("noble-v1", 1), version("noble-v2", 2, newest=True)]
    usage = {"noble-v2": Usage(["VirtualMachine ns/web"], [])}
    step = plan_track(Track("noble", 0, ""), VIRTUAL_IMAGE, "ns", None, True, members,
                      lambda obj: usage.get(obj["metadata"]["name"], Usage([], [])))
    assert names(step.delete) == ["noble-v1"] and [k.name for k in step.kept] == ["noble-v2"]
    assert not step.add_label and step.remove_label == []
    row = step_row(step, "", False)
    assert (row["label"], row["newest"], row["deleted"]) == ("retired", None, ["noble-v1"])


def test_a_version_taken_back_is_numbered_after_the_others_when_it_takes_the_label() -> None:
    members = [version("noble-v1", 1), version("noble-v2", 2, newest=True)]
    step = plan_track(Track("noble", 2, "v1"), VIRTUAL_IMAGE, "ns", members[0], True, members, unused)
    assert step.add_label and step.renumber == 3 and names(step.remove_label) == ["noble-v2"]
    assert newest_patch(True, step.renumber) == {"metadata": {
        "labels": {NEWEST_LABEL: "true"}, "annotations": {SEQUENCE_ANNOTATION: "3"}}}
    fresh = plan_track(Track("noble", 2, "v3"), VIRTUAL_IMAGE, "ns", None, True, members, unused)
    assert fresh.renumber is None   # made in this run: numbered when created


def test_a_version_written_as_a_number_is_its_text() -> None:
    assert entry(version=20240601, keep=1).options.name == "noble-20240601"
    with pytest.raises(ValidationError, match="version '24.04' is not a valid name part"):
        entry(version=24.04, keep=1)
