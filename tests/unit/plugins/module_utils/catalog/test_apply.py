# -*- coding: utf-8 -*-
"""CatalogRun against an in-memory API: one list per namespace before any write, the writes and waits of
every image side by side, check mode stores nothing, a failing image leaves the others to finish, and the
namespace rules (missing ones refused unless create_namespaces; not allowed to list them: carry on).

Overlap is proven with barriers that open only when every image is inside the same call at once; their
timeouts fail the test instead of hanging it.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, Callable, Dict, List, NamedTuple, Optional

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog import parallel
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.apply import CatalogFailed, CatalogRun
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.options import CatalogOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.reading import NAMESPACES_PATH, LiveState
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import VIRTUAL_IMAGE

NS = "ns-a"
GATE_TIMEOUT = 10.0


class Request(NamedTuple):
    verb: str
    path: str
    dry_run: bool = False


def _merge(target: Dict[str, Any], patch: Dict[str, Any]) -> None:
    """JSON merge patch, in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeApi:
    """An in-memory API server with the client's interface (get/list/create/patch/delete/watch, check_mode).

    Writes in check mode are recorded as dry runs and stored nowhere. `watch` plays the image controller:
    it answers with the image Ready, or Failed when its name is in `failing`. `create_gate` / `watch_gate`
    run (outside the lock) inside every image create / watch, so a test can hold threads there.
    """

    def __init__(self, namespaces: List[str], check_mode: bool = False) -> None:
        self.check_mode = check_mode
        self.namespaces = list(namespaces)
        self.store: Dict[str, Dict[str, Any]] = {}
        self.requests: List[Request] = []
        self.failing: Dict[str, str] = {}
        self.create_gate: Callable[[str], None] = lambda name: None
        self.watch_gate: Callable[[str], None] = lambda name: None
        self.namespace_list_error: Optional[ApiError] = None
        self._lock = threading.Lock()
        self._version = 0

    def _record(self, verb: str, path: str, write: bool = False) -> None:
        with self._lock:
            self.requests.append(Request(verb, path, write and self.check_mode))

    def _bump(self, obj: Dict[str, Any]) -> None:
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)

    def writes(self) -> List[Request]:
        return [r for r in self.requests if r.verb in ("POST", "PATCH", "DELETE")]

    def get(self, path: str) -> Optional[Dict[str, Any]]:
        self._record("GET", path)
        with self._lock:
            return copy.deepcopy(self.store.get(path))

    def list(self, path: str, label_selector: Optional[str] = None, field_selector: Optional[str] = None) -> Dict[str, Any]:
        self._record("LIST", path)
        if path == NAMESPACES_PATH:
            if self.namespace_list_error:
                raise self.namespace_list_error
            return {"items": [{"metadata": {"name": name}} for name in self.namespaces]}
        with self._lock:
            items = [copy.deepcopy(obj) for key, obj in sorted(self.store.items()) if key.rsplit("/", 1)[0] == path]
        return {"items": items}

    def create(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self._record("POST", path, write=True)
        name = body["metadata"]["name"]
        if path == NAMESPACES_PATH:
            if not self.check_mode:
                self.namespaces.append(name)
            return copy.deepcopy(body)
        self.create_gate(name)
        if "%s/%s" % (path, name) in self.store:
            raise ApiError('%s "%s" already exists' % (body.get("kind"), name), status=409, reason="AlreadyExists")
        obj = copy.deepcopy(body)
        obj["metadata"].update(uid="uid-" + name, generation=1)
        obj["status"] = {"phase": "Pending"}
        if self.check_mode:
            obj["metadata"]["resourceVersion"] = "0"
            return obj
        with self._lock:
            self._bump(obj)
            self.store["%s/%s" % (path, name)] = obj
            return copy.deepcopy(obj)

    def patch(self, path: str, patch: Dict[str, Any]) -> Dict[str, Any]:
        self._record("PATCH", path, write=True)
        with self._lock:
            obj = copy.deepcopy(self.store[path])
            _merge(obj, patch)
            if not self.check_mode:
                self._bump(obj)
                self.store[path] = obj
            return copy.deepcopy(obj)

    def delete(self, path: str) -> Optional[Dict[str, Any]]:
        self._record("DELETE", path, write=True)
        with self._lock:
            return copy.deepcopy(self.store.get(path) if self.check_mode else self.store.pop(path, None))

    def watch(self, collection_path: str, name: str, resource_version: str, timeout: float) -> Any:
        self._record("WATCH", "%s/%s" % (collection_path, name))
        self.watch_gate(name)
        with self._lock:
            obj = self.store["%s/%s" % (collection_path, name)]
            failed = name in self.failing
            obj["status"] = {"phase": "Failed" if failed else "Ready", "observedGeneration": 1, "conditions": [{
                "type": "Ready", "status": "False" if failed else "True", "observedGeneration": 1,
                "reason": "ImportFailed" if failed else "Ready", "message": self.failing.get(name, "")}]}
            self._bump(obj)
            event = {"type": "MODIFIED", "object": copy.deepcopy(obj)}
        yield event


def params(images: List[Dict[str, Any]], namespaces: Optional[List[str]] = None, **kw: Any) -> Dict[str, Any]:
    base = {"catalog": "base", "namespaces": namespaces or [NS], "images": images, "definitions": [],
            "images_option": "images", "fanout": "none", "prune": False, "recreate": False,
            "create_namespaces": False, "wait": True, "wait_timeout": 30, "progress_file": None}
    base.update(kw)
    return base


def apply(api: FakeApi, images: List[Dict[str, Any]], **kw: Any) -> Dict[str, Any]:
    """CatalogOptions from parameters, then CatalogRun.run, as the module does."""
    return CatalogRun(api, CatalogOptions.from_params(params(images, **kw), VIRTUAL_IMAGE)).run()


def image_path(name: str, namespace: str = NS) -> str:
    return VIRTUAL_IMAGE.object_path(name, namespace)


def urls(*names: str) -> List[Dict[str, Any]]:
    return [{"name": name, "url": "https://files.example/%s.qcow2" % name} for name in names]


def holding(parties: int, timeout: float = GATE_TIMEOUT) -> Callable[[str], None]:
    """A gate every caller passes only once `parties` callers are inside it at the same time."""
    barrier = threading.Barrier(parties, timeout=timeout)

    def gate(name: str) -> None:
        barrier.wait()  # raises BrokenBarrierError on timeout, in every thread waiting there

    return gate


def by_name(rows: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return {row["name"]: row for row in rows}


# -- concurrency ---------------------------------------------------------------------------------------------
def test_every_image_is_created_and_waited_for_side_by_side():
    count = 8
    api = FakeApi([NS])
    api.create_gate = holding(count)  # opens only with all 8 creates in flight at once
    api.watch_gate = holding(count)  # and then only with all 8 waits in flight at once
    result = apply(api, urls(*["img-%d" % i for i in range(count)]))
    rows = by_name(result["images"])
    assert sorted(rows) == ["img-%d" % i for i in range(count)]
    assert all(row["result"] == "created" and row["phase"] == "Ready" and row["changed"] for row in rows.values())
    assert result["changed"] is True and result["failed_images"] == [] and result["created_namespaces"] == []
    assert all(api.store[image_path(name)]["status"]["phase"] == "Ready" for name in rows)
    # read once, plan, then write: the namespace list and one list of the namespace come before any write
    first_write = api.requests.index(api.writes()[0])
    assert [r for r in api.requests if r.verb == "LIST"] == api.requests[:2] == [
        Request("LIST", NAMESPACES_PATH), Request("LIST", VIRTUAL_IMAGE.collection_path(NS))]
    assert first_write == 2


def test_the_overlap_check_fails_when_images_run_one_at_a_time(monkeypatch):
    """The barrier above proves overlap: with a single worker it breaks instead of opening."""
    monkeypatch.setattr(parallel, "MAX_WORKERS", 1)
    api = FakeApi([NS])
    api.create_gate = holding(3, timeout=0.5)
    with pytest.raises(threading.BrokenBarrierError):
        apply(api, urls("a", "b", "c"))
    assert api.store == {}


# -- check mode ----------------------------------------------------------------------------------------------
def test_check_mode_sends_only_dry_runs_and_shows_the_diff():
    api = FakeApi([NS])
    apply(api, urls("keep") + [dict(urls("relabel")[0], labels={"tier": "1"})])
    stored = copy.deepcopy(api.store)
    api.requests.clear()
    api.check_mode = True

    result = apply(api, urls("keep", "new") + [dict(urls("relabel")[0], labels={"tier": "2"})])

    assert api.store == stored
    assert api.writes() and all(w.dry_run for w in api.writes()), api.writes()
    assert sorted((w.verb, w.path) for w in api.writes()) == [
        ("PATCH", image_path("relabel")), ("POST", VIRTUAL_IMAGE.collection_path(NS))]
    assert [r for r in api.requests if r.verb == "WATCH"] == []  # nothing to wait for in check mode
    assert result["changed"] is True
    rows = by_name(result["images"])
    assert {name: row["action"] for name, row in rows.items()} == {"keep": "keep", "new": "create", "relabel": "patch"}
    assert (rows["new"]["result"], rows["relabel"]["result"]) == ("would create", "would update")
    assert rows["keep"]["result"] == "unchanged"  # check mode words only the writes it would send
    assert [rows[name]["changed"] for name in ("keep", "new", "relabel")] == [False, True, True]
    before, after = result["diff"]["before"], result["diff"]["after"]
    relabel, new = VIRTUAL_IMAGE.ref("relabel", NS), VIRTUAL_IMAGE.ref("new", NS)
    assert sorted(before) == [relabel] and sorted(after) == sorted([new, relabel])
    assert before[relabel]["metadata"]["labels"]["tier"] == "1" and after[relabel]["metadata"]["labels"]["tier"] == "2"
    assert after[new]["spec"]["dataSource"] == {"type": "HTTP", "http": {"url": "https://files.example/new.qcow2"}}
    assert "status" not in after[new] and "status" not in before[relabel]


def test_check_mode_into_a_missing_namespace_writes_only_a_dry_run_namespace():
    api = FakeApi([NS], check_mode=True)
    result = apply(api, urls("a"), namespaces=[NS, "ns-new"], create_namespaces=True)
    assert result["created_namespaces"] == ["ns-new"] and result["changed"] is True
    assert api.writes() == [Request("POST", NAMESPACES_PATH, True), Request("POST", VIRTUAL_IMAGE.collection_path(NS), True)]
    assert api.namespaces == [NS] and api.store == {}
    assert by_name([r for r in result["images"] if r["namespace"] == "ns-new"])["a"]["result"] == "would create"


# -- a failing image -----------------------------------------------------------------------------------------
def test_a_failing_image_is_named_while_the_others_finish():
    api = FakeApi([NS])
    api.failing = {"broken": "the source answered 404 Not Found"}
    failure_delivered = threading.Event()

    def others_wait_for_the_failure(name: str) -> None:
        if name == "broken":
            failure_delivered.set()
        elif not failure_delivered.wait(GATE_TIMEOUT):
            raise AssertionError("the failing image's watch never ran while %s was waiting" % name)

    api.watch_gate = others_wait_for_the_failure
    with pytest.raises(CatalogFailed) as err:
        apply(api, urls("a", "b", "broken", "c"))
    ref = VIRTUAL_IMAGE.ref("broken", NS)
    assert err.value.msg.startswith("1 of 4 catalog objects failed: %s [images[2] (broken)]" % ref), err.value.msg
    assert "404 Not Found" in err.value.msg
    details = err.value.details
    assert len(details["failed_images"]) == 1 and details["failed_images"][0].startswith(ref + " [images[2] (broken)]: ")
    rows = by_name(details["images"])
    assert sorted(rows) == ["a", "b", "broken", "c"]
    for name in ("a", "b", "c"):
        assert (rows[name]["result"], rows[name]["phase"], rows[name]["error"]) == ("created", "Ready", ""), rows[name]
        assert api.store[image_path(name)]["status"]["phase"] == "Ready"
    assert rows["broken"]["result"] == "failed" and rows["broken"]["phase"] == "Failed"
    assert "404 Not Found" in rows["broken"]["error"]
    assert details["changed"] is True and any("! " in line and "404" in line for line in details["table"])


# -- namespaces ----------------------------------------------------------------------------------------------
def test_missing_namespaces_are_refused_before_any_write():
    api = FakeApi([NS])
    with pytest.raises(ValidationError, match="namespaces ns-x, ns-y do not exist; create them or set create_namespaces"):
        apply(api, urls("a"), namespaces=[NS, "ns-x", "ns-y"])
    assert api.writes() == [] and api.store == {}


def test_missing_namespace_is_created_before_its_images():
    api = FakeApi([NS])
    result = apply(api, urls("a"), namespaces=["ns-new"], create_namespaces=True)
    assert result["created_namespaces"] == ["ns-new"] and api.namespaces == [NS, "ns-new"]
    assert api.writes() == [Request("POST", NAMESPACES_PATH), Request("POST", VIRTUAL_IMAGE.collection_path("ns-new"))]
    assert api.store[image_path("a", "ns-new")]["status"]["phase"] == "Ready"


def test_not_allowed_to_list_namespaces_goes_on_to_the_images():
    api = FakeApi([NS])
    api.namespace_list_error = ApiError("namespaces is forbidden", status=403)
    result = apply(api, urls("a"), create_namespaces=True)
    assert result["created_namespaces"] == [] and by_name(result["images"])["a"]["result"] == "created"
    assert [w.path for w in api.writes()] == [VIRTUAL_IMAGE.collection_path(NS)]
    api.namespace_list_error = ApiError("the server is down", status=500)
    with pytest.raises(ApiError, match="the server is down"):
        apply(api, urls("b"))


# -- tracks ----------------------------------------------------------------------------------------------------
def test_a_version_labelled_newest_by_a_run_beside_this_one_loses_the_label():
    """Two runs of one catalog at once: this one lists the namespace, then the other labels its own version newest;
    when this run moves the label it lists the track again and takes the label from every other version."""
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
        CATALOG_LABEL, NEWEST_LABEL, TRACK_LABEL,
    )
    api = FakeApi([NS])
    other = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage", "metadata": {
        "name": "noble-v1", "namespace": NS, "labels": {CATALOG_LABEL: "base", TRACK_LABEL: "noble", NEWEST_LABEL: "true"}},
        "spec": {}, "status": {"phase": "Ready"}}

    def beside(name: str) -> None:   # the other run, between this run's list and its label move
        with api._lock:
            api.store[image_path("noble-v1")] = copy.deepcopy(other)

    api.create_gate = beside
    result = apply(api, [{"name": "noble", "url": "https://files.example/noble.img", "version": "v2", "keep": 2}])
    assert [row["newest"] for row in result["tracks"]] == ["noble-v2"]
    labelled = sorted(path.rsplit("/", 1)[1] for path, obj in api.store.items()
                      if (obj["metadata"].get("labels") or {}).get(NEWEST_LABEL))
    assert labelled == ["noble-v2"]


def test_an_image_a_run_beside_this_one_created_as_wanted_is_taken_as_created():
    """Two runs of one catalog at once both plan to create an image: the second create answers 409, and the image
    is this catalog's and what this run wants, so the run goes on with it instead of failing."""
    api = FakeApi([NS])
    seen: Dict[str, Any] = {}

    def beside(name: str) -> None:   # the other run's create lands first, the same object
        if name not in seen:
            seen[name] = True
            apply(api, urls("a"))

    api.create_gate = beside
    result = apply(api, urls("a"))
    assert result["failed_images"] == [] and by_name(result["images"])["a"]["phase"] == "Ready"
    assert [r.verb for r in api.writes()].count("POST") == 2   # both runs tried; one object exists

    foreign = FakeApi([NS])
    foreign.store[image_path("b")] = {"metadata": {"name": "b", "namespace": NS, "labels": {}}, "spec": {}}
    foreign.create_gate = lambda name: None
    with pytest.raises(CatalogFailed, match="already exists"):
        run = CatalogRun(foreign, CatalogOptions.from_params(params(urls("b")), VIRTUAL_IMAGE))
        run._read = lambda wanted: LiveState.empty()   # listed before the other object was made
        run.run()
