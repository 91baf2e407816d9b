# -*- coding: utf-8 -*-
"""decide(), the one decision before any write, as a table: (live, wanted, recreate, content differences, lock) ->
the whole Decision (verb, patch, differing fields, message).

The lock of the images (IMAGE_LOCK: nothing changes once provisioned) and a lock made here with one in-place field
(``spec.size``, which may grow but not shrink, read by value) cover every branch without the kinds' own rules."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, IMAGE_LOCK, IN_PLACE, KEEP, PATCH, RECREATE, REFUSE, SAME, Decision, SpecLock, decide,
)

REF = "VirtualImage ns/img"
HOW = "recreate: true"
HTTP_A = {"type": "HTTP", "http": {"url": "https://a/img"}}
HTTP_B = {"type": "HTTP", "http": {"url": "https://b/img"}}
IMAGE_SPEC = {"storage": "ContainerRegistry", "dataSource": HTTP_A}
SIZED_SPEC = {"size": "10", "source": "a"}
URL = "spec.dataSource.http.url"
CONTENT = ["checksum.md5 (image 0a, file 0b)"]


def grows(obj, live, wanted):
    """The in-place rule of the table's lock: sizes compare by value ("010" is "10"); only a larger one is taken.
    ``obj`` is the live object (this rule needs only the values)."""
    assert obj["metadata"]["uid"] == "u1"
    if int(wanted) == int(live):
        return SAME
    if int(wanted) > int(live):
        return IN_PLACE
    return "size %s is below %s" % (wanted, live)


GROW_LOCK = SpecLock(phases=("Ready",), in_place={"spec.size": grows})
EVERY_PHASE = SpecLock(phases=(None, "Pending", "Ready"))


def live(phase="Ready", spec=None, labels=None):
    obj = {"metadata": {"name": "img", "namespace": "ns", "uid": "u1", "labels": labels or {}},
           "spec": copy.deepcopy(IMAGE_SPEC if spec is None else spec)}
    if phase is not None:
        obj["status"] = {"phase": phase}
    return obj


def wanted(spec=None, labels=None):
    return {"metadata": {"name": "img", "namespace": "ns", "labels": labels or {}},
            "spec": copy.deepcopy(IMAGE_SPEC if spec is None else spec)}


def sized(size="10", source="a"):
    return {"size": size, "source": source}


def locked(phase, fields):
    return ("%s is already provisioned (phase %s) and the platform rejects changes to its spec; differing fields: "
            "%s. Set %s to delete it and create it anew." % (REF, phase, ", ".join(fields), HOW))


def content_locked(phase, content):
    return ("%s is already provisioned (phase %s) with different content: %s. Uploads cannot replace it; set %s to "
            "delete it and upload the file anew." % (REF, phase, "; ".join(content), HOW))


B_SPEC = {"storage": "ContainerRegistry", "dataSource": HTTP_B}
URL_PATCH = {"spec": {"dataSource": {"http": {"url": "https://b/img"}}}}

# id, live, wanted, recreate, content differences, lock, expected
TABLE = [
    # absent, unchanged, metadata
    ("absent", None, wanted(), False, (), IMAGE_LOCK, Decision(CREATE)),
    ("absent, recreate asked", None, wanted(), True, CONTENT, IMAGE_LOCK, Decision(CREATE)),
    ("unchanged", live(), wanted(), False, (), IMAGE_LOCK, Decision(KEEP)),
    ("unchanged, recreate asked", live(), wanted(), True, (), IMAGE_LOCK, Decision(KEEP)),
    ("a label not named is left alone", live(labels={"x": "1"}), wanted(), False, (), IMAGE_LOCK, Decision(KEEP)),
    ("a new label, provisioned", live(), wanted(labels={"a": "1"}), False, (), IMAGE_LOCK,
     Decision(PATCH, patch={"metadata": {"labels": {"a": "1"}}})),
    ("a changed label", live(labels={"a": "1", "x": "1"}), wanted(labels={"a": "2"}), False, (), IMAGE_LOCK,
     Decision(PATCH, patch={"metadata": {"labels": {"a": "2"}}})),
    # spec changes before the lock: patched
    ("spec change, no status yet", live(phase=None), wanted(B_SPEC), False, (), IMAGE_LOCK,
     Decision(PATCH, patch=URL_PATCH, differing=[URL])),
    ("spec change, provisioning", live("Provisioning"), wanted(B_SPEC), False, (), IMAGE_LOCK,
     Decision(PATCH, patch=URL_PATCH, differing=[URL])),
    ("spec change, failed", live("Failed"), wanted(B_SPEC), False, (), IMAGE_LOCK,
     Decision(PATCH, patch=URL_PATCH, differing=[URL])),
    ("spec and label change, pending", live("Pending"), wanted(B_SPEC, {"a": "1"}), False, (), IMAGE_LOCK,
     Decision(PATCH, patch=dict(URL_PATCH, metadata={"labels": {"a": "1"}}), differing=[URL])),
    ("a field only live has is removed", live("Pending"), wanted({"dataSource": HTTP_A}), False, (), IMAGE_LOCK,
     Decision(PATCH, patch={"spec": {"storage": None}}, differing=["spec.storage"])),
    ("a new source kind names every field", live("Pending"),
     wanted({"storage": "ContainerRegistry", "dataSource": {"type": "ObjectRef", "objectRef": {"name": "x"}}}),
     False, (), IMAGE_LOCK,
     Decision(PATCH, patch={"spec": {"dataSource": {"type": "ObjectRef", "http": None, "objectRef": {"name": "x"}}}},
              differing=["spec.dataSource.http", "spec.dataSource.objectRef", "spec.dataSource.type"])),
    # spec changes once provisioned: refused, or recreated when asked
    ("spec change, ready", live(), wanted(B_SPEC), False, (), IMAGE_LOCK,
     Decision(REFUSE, differing=[URL], message=locked("Ready", [URL]))),
    ("spec change, image lost", live("ImageLost"), wanted(B_SPEC), False, (), IMAGE_LOCK,
     Decision(REFUSE, differing=[URL], message=locked("ImageLost", [URL]))),
    ("spec change, volume lost", live("PVCLost"), wanted(B_SPEC), False, (), IMAGE_LOCK,
     Decision(REFUSE, differing=[URL], message=locked("PVCLost", [URL]))),
    ("spec and label change, ready", live(), wanted(B_SPEC, {"a": "1"}), False, (), IMAGE_LOCK,
     Decision(REFUSE, differing=[URL], message=locked("Ready", [URL]))),
    ("spec change, ready, recreate", live(), wanted(B_SPEC), True, (), IMAGE_LOCK,
     Decision(RECREATE, differing=[URL])),
    # content differences (an upload's file): they count only once provisioned
    ("content differs, ready", live(), wanted(), False, CONTENT, IMAGE_LOCK,
     Decision(REFUSE, differing=CONTENT, message=content_locked("Ready", CONTENT))),
    ("content differs, ready, recreate", live(), wanted(), True, CONTENT, IMAGE_LOCK,
     Decision(RECREATE, differing=CONTENT)),
    ("content differs, waiting for the upload", live("WaitForUserUpload"), wanted(), False, CONTENT, IMAGE_LOCK,
     Decision(KEEP)),
    ("spec and content differ, ready", live(), wanted(B_SPEC), False, CONTENT, IMAGE_LOCK,
     Decision(REFUSE, differing=[URL] + CONTENT, message=locked("Ready", [URL]))),
    ("spec and content differ, ready, recreate", live(), wanted(B_SPEC), True, CONTENT, IMAGE_LOCK,
     Decision(RECREATE, differing=[URL] + CONTENT)),
    # a lock with a field that changes in place
    ("in place: the same value", live(spec=sized()), wanted(sized("010")), False, (), GROW_LOCK, Decision(KEEP)),
    ("in place: the same value beside a label", live(spec=sized()), wanted(sized("010"), {"a": "1"}), False, (),
     GROW_LOCK, Decision(PATCH, patch={"metadata": {"labels": {"a": "1"}}})),
    ("in place: a change the rule takes", live(spec=sized()), wanted(sized("20")), False, (), GROW_LOCK,
     Decision(PATCH, patch={"spec": {"size": "20"}}, differing=["spec.size"])),
    ("in place: a change the rule refuses", live(spec=sized()), wanted(sized("5")), False, (), GROW_LOCK,
     Decision(REFUSE, differing=["spec.size"], message=REF + ": size 5 is below 10")),
    ("in place: refused even with recreate", live(spec=sized()), wanted(sized("5")), True, (), GROW_LOCK,
     Decision(REFUSE, differing=["spec.size"], message=REF + ": size 5 is below 10")),
    ("in place: refused beside a locked field", live(spec=sized()), wanted(sized("5", "b")), False, (), GROW_LOCK,
     Decision(REFUSE, differing=["spec.size", "spec.source"], message=REF + ": size 5 is below 10")),
    ("in place: refused beside a locked field, recreate", live(spec=sized()), wanted(sized("5", "b")), True, (),
     GROW_LOCK, Decision(RECREATE, differing=["spec.source"])),
    ("in place: taken beside a locked field", live(spec=sized()), wanted(sized("20", "b")), False, (), GROW_LOCK,
     Decision(REFUSE, differing=["spec.source"], message=locked("Ready", ["spec.source"]))),
    ("in place: a refusal before the lock's phases", live("Provisioning", sized()), wanted(sized("5")), False, (),
     GROW_LOCK, Decision(PATCH, patch={"spec": {"size": "5"}}, differing=["spec.size"])),
    ("in place: the lock's phases, not the images'", live("ImageLost", sized()), wanted(sized("5", "b")), False, (),
     GROW_LOCK, Decision(PATCH, patch={"spec": {"size": "5", "source": "b"}}, differing=["spec.size", "spec.source"])),
    # a lock over every phase, none included (a snapshot's spec never changes)
    ("every phase: no status yet", live(phase=None), wanted(B_SPEC), True, (), EVERY_PHASE,
     Decision(RECREATE, differing=[URL])),
    ("every phase: pending", live("Pending"), wanted(B_SPEC), False, (), EVERY_PHASE,
     Decision(REFUSE, differing=[URL], message=locked("Pending", [URL]))),
    ("every phase: a label still changes", live("Pending"), wanted(labels={"a": "1"}), False, (), EVERY_PHASE,
     Decision(PATCH, patch={"metadata": {"labels": {"a": "1"}}})),
]


@pytest.mark.parametrize("live_obj,wanted_obj,recreate,content,lock,expected",
                         [pytest.param(*row[1:], id=row[0]) for row in TABLE])
def test_decide(live_obj, wanted_obj, recreate, content, lock, expected):
    before = copy.deepcopy((live_obj, wanted_obj, list(content)))
    assert decide(live_obj, wanted_obj, REF, recreate, HOW, list(content), lock) == expected
    assert (live_obj, wanted_obj, list(content)) == before  # pure: the inputs are left as they were


def test_the_table_reaches_every_verb():
    assert {row[-1].verb for row in TABLE} == {CREATE, PATCH, KEEP, REFUSE, RECREATE}


def test_the_image_lock_is_the_default():
    default = decide(live(), wanted(B_SPEC), REF, False, HOW)
    assert default == decide(live(), wanted(B_SPEC), REF, False, HOW, (), IMAGE_LOCK)
    assert IMAGE_LOCK.in_place == {}
