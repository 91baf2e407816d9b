# -*- coding: utf-8 -*-
"""The shared run of one object (objects/runner.py), through a fake kind: what every kind's run does and returns,
and where a kind's hooks are called, so that a change to the shared flow shows here and not only in one kind."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, NamedTuple, Optional

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ApiError, ImmutableSpec, InUse, ObjectFailed,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.runner import ObjectRunner, named

WIDGET = Kind("Widget", "widgets", True)
PATH = WIDGET.object_path("w", "ns")


class WidgetRequest(NamedTuple):
    manifest: Optional[Dict[str, Any]]
    kind: Kind = WIDGET
    name: str = "w"
    namespace: Optional[str] = "ns"
    recreate: bool = False
    how_to_recreate: str = "recreate: true"
    wait: bool = False
    wait_timeout: float = 5.0

    @property
    def ref(self) -> str:
        return self.kind.ref(self.name, self.namespace)


class FakeClient:
    """Objects by path; records every write."""

    def __init__(self, objects: Optional[Dict[str, Any]] = None, check_mode: bool = False) -> None:
        self.objects = objects or {}
        self.check_mode = check_mode
        self.writes: List[Any] = []
        self.create_error: Optional[ApiError] = None

    def get(self, path: str) -> Any:
        return copy.deepcopy(self.objects.get(path))

    def create(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self.writes.append(("POST", path, body))
        if self.create_error is not None:
            raise self.create_error
        return dict(body, metadata=dict(body["metadata"], uid="new", managedFields=[{"manager": "x"}]))

    def patch(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self.writes.append(("PATCH", path, body))
        return self.objects[path]

    def delete(self, path: str) -> Dict[str, Any]:
        self.writes.append(("DELETE", path))
        return {}


class StubWaiter:
    """Answers every wait with ``answer`` (or raises it); records the goals."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.goals: List[Any] = []

    def wait(self, goal: Any, timeout: float, obj: Any = None) -> Any:
        self.goals.append(goal)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class WidgetRunner(ObjectRunner[WidgetRequest]):
    """A kind with every hook recorded: widgets lock once Ready, their colour is their own result key."""

    result_key = "widget"

    def __init__(self, client: Any, request: WidgetRequest) -> None:
        super().__init__(client, request, Tracker(request.ref))
        self.calls: List[str] = []
        self.remake = ""
        self.users: List[str] = []

    def described(self, obj: Any) -> Dict[str, Any]:
        return {"colour": ((obj or {}).get("spec") or {}).get("colour")}

    def before_writes(self, wanted: Dict[str, Any], live: Any) -> Dict[str, Any]:
        self.calls.append("before_writes")
        return dict(wanted, spec=dict(wanted["spec"], filled="by the kind"))

    def write_first(self) -> bool:
        self.calls.append("write_first")
        return False

    def check_recreate(self, live: Any, differing: List[str]) -> None:
        self.calls.append("check_recreate %s" % ",".join(differing))

    def remake_reason(self, live: Any) -> str:
        return self.remake

    def ready_goal(self) -> str:
        return "widget-ready"

    def refuse_delete(self, live: Any) -> List[str]:
        self.calls.append("refuse_delete")
        if self.users == ["nobody may"]:
            raise InUse("in use")
        return self.users

    def absent_goal(self, users: List[str]) -> Any:
        return "gone with %s" % users

    def after_delete(self, live: Any) -> None:
        self.calls.append("after_delete")

    def deleted(self, result: Dict[str, Any], users: List[str]) -> Dict[str, Any]:
        return dict(result, users=users)


def wanted(colour: str = "red") -> Dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"},
            "spec": {"colour": colour}}


def live(colour: str = "red", phase: str = "Ready") -> Dict[str, Any]:
    obj = wanted(colour)
    obj["spec"]["filled"] = "by the kind"
    obj["metadata"].update(uid="old", resourceVersion="1", managedFields=[{"manager": "x"}])
    obj["status"] = {"phase": phase}
    return obj


def test_create_writes_what_before_writes_completed_and_returns_the_shared_keys() -> None:
    client = FakeClient()
    runner = WidgetRunner(client, WidgetRequest(manifest=wanted()))
    result = runner.run()
    assert runner.calls == ["before_writes", "write_first"]
    completed = dict(wanted(), spec={"colour": "red", "filled": "by the kind"})
    assert client.writes == [("POST", WIDGET.collection_path("ns"), completed)]
    assert set(result) == {"changed", "widget", "phase", "colour", "duration", "phases", "diff"}
    assert result["changed"] is True and result["colour"] == "red"
    assert "managedFields" not in result["widget"]["metadata"]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["spec"]["filled"] == "by the kind"


def test_the_same_object_is_kept_without_a_write() -> None:
    client = FakeClient({PATH: live()})
    result = WidgetRunner(client, WidgetRequest(manifest=wanted())).run()
    assert client.writes == [] and result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_a_spec_change_before_the_lock_is_patched() -> None:
    client = FakeClient({PATH: live(phase="Pending")})
    result = WidgetRunner(client, WidgetRequest(manifest=wanted("blue"))).run()
    assert [w[0] for w in client.writes] == ["PATCH"]
    assert client.writes[0][2]["spec"]["colour"] == "blue"
    assert result["changed"] is True and result["diff"]["after"]["spec"]["colour"] == "blue"


def test_a_locked_change_is_refused_naming_the_object_under_the_kinds_key() -> None:
    client = FakeClient({PATH: live()})
    with pytest.raises(ImmutableSpec) as caught:
        WidgetRunner(client, WidgetRequest(manifest=wanted("blue"))).run()
    assert client.writes == []
    assert caught.value.details["differing_fields"] == ["spec.colour"]
    assert "image" not in caught.value.details
    assert caught.value.details["widget"]["metadata"]["uid"] == "old"
    assert "managedFields" not in caught.value.details["widget"]["metadata"]


def test_recreate_asks_the_kind_first_then_deletes_and_creates() -> None:
    client = FakeClient({PATH: live()}, check_mode=True)
    runner = WidgetRunner(client, WidgetRequest(manifest=wanted("blue"), recreate=True))
    result = runner.run()
    assert "check_recreate spec.colour" in runner.calls
    assert client.writes == [("DELETE", PATH)]  # check mode stops after the dry-run delete
    assert result["changed"] is True and result["diff"]["after"]["spec"]["colour"] == "blue"


def test_a_remake_reason_makes_an_unchanged_object_anew() -> None:
    client = FakeClient({PATH: live()}, check_mode=True)
    runner = WidgetRunner(client, WidgetRequest(manifest=wanted()))
    runner.remake = "it is broken"
    result = runner.run()
    assert client.writes == [("DELETE", PATH)] and result["changed"] is True


def test_a_retried_post_that_landed_is_the_object() -> None:
    client = FakeClient()
    client.create_error = ApiError("exists", status=409, reason="AlreadyExists")
    runner = WidgetRunner(client, WidgetRequest(manifest=wanted()))
    original_create = client.create

    def create_then_exist(path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        client.objects[PATH] = live()
        return original_create(path, body)

    client.create = create_then_exist  # type: ignore[method-assign]
    assert runner.run()["widget"]["metadata"]["uid"] == "old"


def test_wait_waits_for_the_kinds_ready_goal() -> None:
    client = FakeClient()
    runner = WidgetRunner(client, WidgetRequest(manifest=wanted(), wait=True))
    runner.waiter = StubWaiter(live("green"))  # type: ignore[assignment]
    result = runner.run()
    assert runner.waiter.goals == ["widget-ready"] and result["colour"] == "green"


def test_a_failure_the_waiter_names_image_is_named_under_the_kinds_key() -> None:
    client = FakeClient()
    runner = WidgetRunner(client, WidgetRequest(manifest=wanted(), wait=True))
    runner.waiter = StubWaiter(ObjectFailed("Failed", image=live()))  # type: ignore[assignment]
    with pytest.raises(ObjectFailed) as caught:
        runner.run()
    assert "image" not in caught.value.details
    assert caught.value.details["widget"]["metadata"]["uid"] == "old"
    assert "managedFields" not in caught.value.details["widget"]["metadata"]


def test_absent_deletes_after_the_kinds_refusal_and_reports_through_it() -> None:
    client = FakeClient({PATH: live()})
    runner = WidgetRunner(client, WidgetRequest(manifest=None, wait=True))
    runner.users = ["vm"]
    runner.waiter = StubWaiter(None)  # type: ignore[assignment]
    result = runner.run()
    assert runner.waiter.goals == ["gone with ['vm']"]
    assert runner.calls == ["refuse_delete", "after_delete"]
    assert client.writes == [("DELETE", PATH)]
    assert result["changed"] is True and result["users"] == ["vm"] and result["diff"]["after"] == {}


def test_a_refused_delete_writes_nothing() -> None:
    client = FakeClient({PATH: live()})
    runner = WidgetRunner(client, WidgetRequest(manifest=None))
    runner.users = ["nobody may"]
    with pytest.raises(InUse):
        runner.run()
    assert client.writes == [] and "after_delete" not in runner.calls


def test_absent_of_nothing_changes_nothing() -> None:
    client = FakeClient()
    result = WidgetRunner(client, WidgetRequest(manifest=None)).run()
    assert client.writes == [] and result["changed"] is False and result["widget"] is None
    assert result["colour"] is None


def test_named_takes_the_kinds_own_key_too() -> None:
    details = {"widget": {"a": 1}, "other": 2}
    named(details, "widget", lambda obj: dict(obj, shown=True))
    assert details == {"widget": {"a": 1, "shown": True}, "other": 2}
