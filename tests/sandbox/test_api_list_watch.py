"""Selectors, pagination, resourceVersion semantics and watch (resume, 410, bookmarks)."""
from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes.dynamic.exceptions import ApiException


def _cms(api: Any) -> Any:
    return api.resources.get(api_version="v1", kind="ConfigMap")


@pytest.fixture
def labelled(api: Any, ns: str, cm: Any) -> str:
    res = _cms(api)
    for name, labels in (("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db", "env": "prod"}),
                         ("c", {"tier": "web"}), ("d", {})):
        res.create(body=cm(name, ns, labels=labels), namespace=ns)
    return ns


@pytest.mark.parametrize("selector,names", [
    ("tier=web", ["a", "c"]), ("tier==web", ["a", "c"]), ("tier!=web", ["b", "d"]),
    ("tier in (web,db)", ["a", "b", "c"]), ("tier notin (web)", ["b", "d"]),
    ("env", ["a", "b"]), ("!env", ["c", "d"]), ("tier=web,env=prod", ["a"]),
])
def test_label_selectors(api: Any, labelled: str, selector: str, names: list[str]) -> None:
    got = _cms(api).get(namespace=labelled, label_selector=selector)
    assert [i.metadata.name for i in got.items] == names


def test_field_selectors_and_bad_ones(api: Any, api_sandbox: Any, labelled: str) -> None:
    got = _cms(api).get(namespace=labelled, field_selector="metadata.name=b")
    assert [i.metadata.name for i in got.items] == ["b"]
    got = _cms(api).get(field_selector=f"metadata.namespace={labelled},metadata.name!=b")
    assert [i.metadata.name for i in got.items] == ["a", "c", "d"]
    code, _, body = api_sandbox.request("GET", f"/api/v1/namespaces/{labelled}/configmaps"
                                               "?fieldSelector=spec.foo%3Dx")
    assert code == 400 and body["message"] == "field label not supported: spec.foo"


def test_pagination(api: Any, labelled: str) -> None:
    res = _cms(api)
    page = res.get(namespace=labelled, limit=3)
    assert [i.metadata.name for i in page.items] == ["a", "b", "c"]
    assert page.metadata.remainingItemCount == 1 and page.metadata["continue"]
    rest = res.get(namespace=labelled, limit=3, _continue=page.metadata["continue"])
    assert [i.metadata.name for i in rest.items] == ["d"] and not rest.metadata["continue"]


def test_watch_resumes_from_resource_version(api: Any, ns: str, cm: Any) -> None:
    res = _cms(api)
    start = res.get(namespace=ns).metadata.resourceVersion
    res.create(body=cm("w1", ns), namespace=ns)
    res.patch(name="w1", namespace=ns, content_type="application/merge-patch+json",
              body={"data": {"k": "2"}})
    res.delete(name="w1", namespace=ns)
    seen = [(e["type"], e["object"].metadata.name)
            for e in res.watch(namespace=ns, resource_version=start, timeout=1)]
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_watch_streams_live_events_with_selector_transitions(api: Any, ns: str, cm: Any) -> None:
    res = _cms(api)
    res.create(body=cm("live", ns), namespace=ns)
    rv = res.get(namespace=ns).metadata.resourceVersion
    got: list[tuple[str, str]] = []
    ready = threading.Event()

    def consume() -> None:
        for ev in res.watch(namespace=ns, label_selector="pick=yes", resource_version=rv, timeout=3):
            got.append((ev["type"], ev["object"].metadata.name))
            if len(got) == 2:
                ready.set()
                return

    t = threading.Thread(target=consume)
    t.start()
    merge = "application/merge-patch+json"
    res.patch(name="live", namespace=ns, content_type=merge, body={"metadata": {"labels": {"pick": "yes"}}})
    res.patch(name="live", namespace=ns, content_type=merge, body={"metadata": {"labels": {"pick": "no"}}})
    assert ready.wait(5)
    t.join(5)
    assert got == [("ADDED", "live"), ("DELETED", "live")]


def test_watch_from_compacted_version_is_gone(api: Any, api_sandbox: Any, ns: str, cm: Any) -> None:
    res = _cms(api)
    res.create(body=cm("old", ns), namespace=ns)
    old_rv = res.get(namespace=ns).metadata.resourceVersion
    res.create(body=cm("newer", ns), namespace=ns)
    api_sandbox.compact()
    code, _, raw = api_sandbox.request(
        "GET", f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={old_rv}&timeoutSeconds=2")
    event = raw if isinstance(raw, dict) else json.loads(raw.splitlines()[0])
    assert code == 200 and event["type"] == "ERROR"
    status = event["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {old_rv} (")
    with pytest.raises(ApiException) as err:
        list(res.watch(namespace=ns, resource_version=old_rv, timeout=2))
    assert err.value.status == 410
    # a continue token from before the compaction is 410 as well
    page = res.get(namespace=ns, limit=1)
    res.create(body=cm("newest", ns), namespace=ns)
    api_sandbox.compact()
    code, _, body = api_sandbox.request(
        "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=1&continue={page.metadata['continue']}")
    assert code == 410 and body["reason"] == "Expired"


def test_bookmarks(api_sandbox: Any, ns: str) -> None:
    api_sandbox.set_faults(bookmark_interval=0.2)
    code, _, raw = api_sandbox.request(
        "GET", f"/api/v1/namespaces/{ns}/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=1")
    lines = [json.loads(x) for x in (raw.splitlines() if isinstance(raw, str) else [json.dumps(raw)])]
    bookmarks = [e for e in lines if e["type"] == "BOOKMARK"]
    assert code == 200 and len(bookmarks) >= 2
    assert bookmarks[0]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[0]["object"]["metadata"]["resourceVersion"]) > 0


def test_list_resource_version_semantics(api_sandbox: Any, ns: str) -> None:
    code, _, body = api_sandbox.request("GET", f"/api/v1/namespaces/{ns}/configmaps?resourceVersion=0")
    assert code == 200 and body["kind"] == "ConfigMapList"
    code, _, body = api_sandbox.request(
        "GET", f"/api/v1/namespaces/{ns}/configmaps?resourceVersion=99999999")
    assert code == 504 and body["message"].startswith("Timeout: Too large resource version: 99999999")


def test_watch_on_a_named_path_sees_only_that_object(api_sandbox: Any, api: Any, ns: str, cm: Any) -> None:
    res = _cms(api)
    res.create(body=cm("one", ns), namespace=ns)
    res.create(body=cm("two", ns), namespace=ns)
    code, _, raw = api_sandbox.request(
        "GET", f"/api/v1/namespaces/{ns}/configmaps/two?watch=1&timeoutSeconds=1")
    events = [json.loads(x) for x in raw.splitlines()] if isinstance(raw, str) else [raw]
    assert code == 200 and [e["object"]["metadata"]["name"] for e in events] == ["two"]
