"""Cases for the collection's own API paths, sent by the collection's own client.

Each case drives `plugins/module_utils/api/client.py` (and the waiter) over `Ctx.transport`, so what is
compared is what the collection really sends: its watch (a field selector on the name, bookmarks allowed,
a resume after 410), its DELETE with a DeleteOptions body (propagation, dry run in the body), its merge
patches and creates (strict field validation, dry run in check mode), its lists (limit and continue).
Where the client has no way to say something a real cluster answers (reads at a resourceVersion, pages
with writes between them) the case sends it directly, next to the client's own request.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

from . import collection
from .cases import scenario
from .harness import MERGE, Ctx
from .kinds import Kind

SHORT_WATCH = 1.0   # seconds: the client's watch asks the server to end the stream after this


def _client(c: Ctx, prefix: str, check_mode: bool = False) -> Any:
    client = collection.client_module()
    return client.Client(c.transport(prefix), check_mode=check_mode, retry_budget=0.0)


def _ckind(k: Kind) -> Any:
    kinds = collection.module("common.kinds")
    return kinds.Kind(k.kind, k.plural, k.namespaced)


def _error(c: Ctx, label: str, call: Callable[[], Any]) -> Any:
    """Run a client call that may refuse; record what the collection's user would read."""
    api_error = collection.module("common.errors").ApiError
    try:
        result = call()
    except api_error as exc:
        c.record(label, {"error": str(exc), "status": exc.status, "reason": exc.reason})
        return None
    c.record(label, {"returned": "none" if result is None else "object"})
    return result


def _names(b: Any) -> list[str]:
    return [i["metadata"]["name"] for i in b.get("items", [])]


@scenario("client-write", "the client's create and merge patch: strict field validation, dry run in check mode")
def s_client_write(c: Ctx, k: Kind) -> None:
    real, dry = _client(c, "write"), _client(c, "dry", check_mode=True)
    coll, path = k.path(c.ns), k.path(c.ns, "cw")
    _error(c, "dry-create", lambda: dry.create(coll, k.obj("cw", c.ns)))
    _error(c, "create", lambda: real.create(coll, k.obj("cw", c.ns)))
    _error(c, "create-again", lambda: real.create(coll, k.obj("cw", c.ns)))
    _error(c, "unknown-field", lambda: real.patch(path, {"spec": {"bogusField": 1}}))
    _error(c, "probe", lambda: real.create(coll, k.obj("cw-probe", c.ns), dry_run=True))
    _error(c, "dry-patch", lambda: dry.patch(path, {"metadata": {"labels": {"dry": "yes"}}}))
    _error(c, "patch", lambda: real.patch(path, {"metadata": {"labels": {"real": "yes"}}}))
    if k.change:
        spec = k.spec()
        k.change(spec)
        _error(c, "spec", lambda: real.patch(path, {"spec": spec}))


@scenario("client-patch-conflict", "a merge patch carrying a stale resourceVersion: 409 Conflict, the object unchanged")
def s_client_conflict(c: Ctx, k: Kind) -> None:
    client = _client(c, "conflict")
    created = _error(c, "create", lambda: client.create(k.path(c.ns), k.obj("pc", c.ns)))
    stale = created["metadata"]["resourceVersion"]
    path = k.path(c.ns, "pc")
    _error(c, "patch", lambda: client.patch(path, {"metadata": {"labels": {"a": "1"}}}))
    _error(c, "stale", lambda: client.patch(path, {"metadata": {"resourceVersion": stale, "labels": {"b": "2"}}}))
    fresh = client.get(path)["metadata"]["resourceVersion"]
    _error(c, "current", lambda: client.patch(path, {"metadata": {"resourceVersion": fresh, "labels": {"c": "3"}}}))
    c.step("uid-precondition", "PATCH", path, {"metadata": {"uid": "00000000-0000-0000-0000-000000000000"}},
           ctype=MERGE)


@scenario("client-delete", "the client's DELETE with a DeleteOptions body: dry run, propagation, preconditions")
def s_client_delete(c: Ctx, k: Kind) -> None:
    client, dry = _client(c, "delete"), _client(c, "dry", check_mode=True)
    created = _error(c, "create", lambda: client.create(k.path(c.ns), k.obj("cd", c.ns)))
    path = k.path(c.ns, "cd")
    _error(c, "dry-delete", lambda: dry.delete(path))
    _error(c, "delete", lambda: client.delete(path))
    _error(c, "delete-gone", lambda: client.delete(path))
    _error(c, "get-gone", lambda: client.get(path))
    held = k.obj("cd-held", c.ns, finalizers=["example.com/hold"])
    held_created = _error(c, "create-held", lambda: client.create(k.path(c.ns), held))
    held_path = k.path(c.ns, "cd-held")
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    c.step("wrong-uid", "DELETE", held_path, dict(options, preconditions={"uid": created["metadata"]["uid"]}))
    c.step("dry-run-body", "DELETE", held_path, dict(options, dryRun=["All"],
                                                     preconditions={"uid": held_created["metadata"]["uid"]}))
    c.step("bad-propagation", "DELETE", held_path, dict(options, propagationPolicy="Sideways"))
    c.step("held", "DELETE", held_path, dict(options, preconditions={
        "resourceVersion": held_created["metadata"]["resourceVersion"]}))
    _error(c, "delete-terminating", lambda: client.delete(held_path))
    c.step("release", "PATCH", held_path, {"metadata": {"finalizers": None}}, ctype=MERGE)


@scenario("client-watch", "the waiter's watch: a field selector on the name, bookmarks allowed, from a resourceVersion")
def s_client_watch(c: Ctx, k: Kind) -> None:
    client = _client(c, "watch")
    coll = k.path(c.ns)
    created = _error(c, "create", lambda: client.create(coll, k.obj("cwa", c.ns)))
    _error(c, "create-other", lambda: client.create(coll, k.obj("cwa-other", c.ns)))
    name = k.name("cwa", c.ns)
    _error(c, "label", lambda: client.patch(k.path(c.ns, "cwa"), {"metadata": {"labels": {"step": "2"}}}))
    _error(c, "label-other", lambda: client.patch(k.path(c.ns, "cwa-other"), {"metadata": {"labels": {"s": "2"}}}))
    _error(c, "delete", lambda: client.delete(k.path(c.ns, "cwa")))
    list(client.watch(coll, name, created["metadata"]["resourceVersion"], SHORT_WATCH))
    # (never from "0": the collection always watches from a version it read, and the reference server cannot
    # serve a watch from "0" over bookworm's etcd 3.4, which lacks RequestWatchProgress)


@scenario("client-waiter-gone", "the waiter through a 410: its watch from a compacted resourceVersion, a re-read, the resume")
def s_client_gone(c: Ctx, k: Kind) -> None:
    client = _client(c, "waiter")
    waiter_mod = collection.module("api.waiter")
    created = _error(c, "create", lambda: client.create(k.path(c.ns), k.obj("wg", c.ns)))
    _error(c, "label", lambda: client.patch(k.path(c.ns, "wg"), {"metadata": {"labels": {"done": "yes"}}}))
    c.server.compact()
    # What the waiter held is older than anything either server still has history for.
    stale = copy.deepcopy(created)
    stale["metadata"]["resourceVersion"] = "1"

    def labelled(obj: Any) -> Any:
        done = obj is not None and (obj["metadata"].get("labels") or {}).get("done") == "yes"
        return waiter_mod.Verdict(waiter_mod.DONE if done else waiter_mod.WAIT)

    waiter = waiter_mod.Waiter(client, _ckind(k), k.name("wg", c.ns), c.ns if k.namespaced else None,
                               sleep=lambda s: None)
    got = waiter.wait((labelled, "labelled"), 10.0, obj=stale)
    c.record("waited", {"labels": (got or {}).get("metadata", {}).get("labels")})
    _error(c, "delete", lambda: client.delete(k.path(c.ns, "wg")))


@scenario("client-read-rv", "GET and list at a resourceVersion, with resourceVersionMatch, next to the client's list")
def s_client_read_rv(c: Ctx, k: Kind) -> None:
    client = _client(c, "list")
    sel = f"case={c.ns}"
    first = c.step("create-a", "POST", k.path(c.ns), k.obj("rv-a", c.ns, labels={"case": c.ns}), keep_object=False)
    rv_a = first.body["metadata"]["resourceVersion"]
    c.step("create-b", "POST", k.path(c.ns), k.obj("rv-b", c.ns, labels={"case": c.ns}), keep_object=False)
    c.step("modify-a", "PATCH", k.path(c.ns, "rv-a"), {"metadata": {"labels": {"m": "1"}}}, ctype=MERGE,
           keep_object=False)
    listing = lambda b: {"names": _names(b), "labels": [i["metadata"].get("labels") for i in b["items"]]}  # noqa: E731
    c.step("get-rv0", "GET", k.path(c.ns, "rv-a"), params={"resourceVersion": "0"})
    c.step("list-rv0", "GET", k.path(c.ns), params={"labelSelector": sel, "resourceVersion": "0"}, pick=listing)
    c.step("list-exact-old", "GET", k.path(c.ns), params={"labelSelector": sel, "resourceVersion": rv_a,
                                                          "resourceVersionMatch": "Exact"}, pick=listing)
    c.step("list-not-older", "GET", k.path(c.ns), params={"labelSelector": sel, "resourceVersion": rv_a,
                                                          "resourceVersionMatch": "NotOlderThan"}, pick=listing)
    c.step("match-without-rv", "GET", k.path(c.ns), params={"labelSelector": sel, "resourceVersionMatch": "Exact"})
    c.step("match-bad", "GET", k.path(c.ns), params={"labelSelector": sel, "resourceVersion": rv_a,
                                                     "resourceVersionMatch": "Newest"})
    c.step("exact-rv0", "GET", k.path(c.ns), params={"labelSelector": sel, "resourceVersion": "0",
                                                     "resourceVersionMatch": "Exact"})
    c.step("exact-with-continue", "GET", k.path(c.ns), params={"labelSelector": sel, "resourceVersion": rv_a,
                                                               "resourceVersionMatch": "Exact", "limit": "1"},
           pick=lambda b: {"names": _names(b), "continue": b["metadata"].get("continue")})
    _error(c, "client-list", lambda: client.list(k.path(c.ns), label_selector=sel))


@scenario("client-pages", "list pages read at the first page's snapshot while objects are written between them")
def s_client_pages(c: Ctx, k: Kind) -> None:
    for i in range(5):
        c.step(f"seed-{i}", "POST", k.path(c.ns), k.obj(f"pg-{i}", c.ns, labels={"case": c.ns}), keep_object=False)
    sel = {"labelSelector": f"case={c.ns}", "limit": "2"}
    page = lambda b: {"names": _names(b), "labels": [i["metadata"].get("labels") for i in b["items"]],  # noqa: E731
                      "continue": b["metadata"].get("continue"),
                      "remaining": b["metadata"].get("remainingItemCount"),
                      "resourceVersion": b["metadata"].get("resourceVersion")}
    r = c.step("page1", "GET", k.path(c.ns), params=sel, pick=page)
    c.step("insert", "POST", k.path(c.ns), k.obj("pg-2a", c.ns, labels={"case": c.ns}), keep_object=False)
    c.step("remove", "DELETE", k.path(c.ns, "pg-4"), keep_object=False)
    c.step("modify", "PATCH", k.path(c.ns, "pg-3"), {"metadata": {"labels": {"m": "1"}}}, ctype=MERGE,
           keep_object=False)
    token = r.body["metadata"].get("continue", "")
    r = c.step("page2", "GET", k.path(c.ns), params=dict(sel, **{"continue": token}), pick=page)
    token = r.body["metadata"].get("continue", "")
    c.step("page3", "GET", k.path(c.ns), params=dict(sel, **{"continue": token}), pick=page)
    c.step("fresh", "GET", k.path(c.ns), params={"labelSelector": f"case={c.ns}"}, pick=page)


@scenario("client-list", "the client's list: selectors, every page followed")
def s_client_list(c: Ctx, k: Kind) -> None:
    client = _client(c, "list")
    for i in range(3):
        c.step(f"seed-{i}", "POST", k.path(c.ns), k.obj(f"cl-{i}", c.ns, labels={"case": c.ns, "i": str(i)}),
               keep_object=False)
    shape = lambda b: {"kind": b.get("kind"), "apiVersion": b.get("apiVersion"), "names": _names(b)}  # noqa: E731
    for label, labels, fields in (("labels", f"case={c.ns},i!=1", None),
                                  ("name", f"case={c.ns}", f"metadata.name={k.name('cl-2', c.ns)}"),
                                  ("bad-field", f"case={c.ns}", "spec.x=1")):
        try:
            got = client.list(k.path(c.ns), label_selector=labels, field_selector=fields)
            c.record(f"client-{label}", shape(got))
        except collection.module("common.errors").ApiError as exc:
            c.record(f"client-{label}", {"error": str(exc), "status": exc.status})
