"""The scripted request sequences, one set per kind; each becomes a case on each platform line.

Case ids: `<line>/<kind>/<scenario>`, e.g. `dev/vi/create-invalid-enum`. A scenario only does what
both servers can do: the real server has no namespaces, RBAC, garbage collection or webhooks.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

import yaml

from .harness import APPLY, JSONPATCH, MERGE, TABLE, Case, Ctx, watch_events
from .kinds import KINDS, Kind

Scenario = Callable[[Ctx, Kind], None]
SCENARIOS: list[tuple[str, str, Scenario, bool]] = []   # (name, title, function, needs kubectl)


def scenario(name: str, title: str, kubectl: bool = False, only: Callable[[Kind], bool] | None = None) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        fn.only = only  # type: ignore[attr-defined]
        SCENARIOS.append((name, title, fn, kubectl))
        return fn
    return register


def _names(lst: Any) -> list[str]:
    return [i["metadata"]["name"] for i in lst.get("items", [])]


# -- create and read ----------------------------------------------------------------------------------

@scenario("create", "create a valid object, read it back (defaults applied, generation 1)")
def s_create(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("one", c.ns))
    c.step("get", "GET", k.path(c.ns, "one"))


@scenario("create-defaults", "defaulted fields filled in by the schema", only=lambda k: bool(k.defaulted))
def s_defaults(c: Ctx, k: Kind) -> None:
    spec = k.spec()
    for key in k.defaulted:
        spec.pop(key, None)
    c.step("create", "POST", k.path(c.ns), k.obj("dflt", c.ns, spec), pick=lambda b: b["spec"])
    explicit = k.spec()
    c.step("create-null", "POST", k.path(c.ns), k.obj("dflt-null", c.ns, dict(explicit, **{d: None for d in k.defaulted})),
           pick=lambda b: b["spec"])


@scenario("create-generate-name", "generateName: a name is made up (length and prefix compared)")
def s_generate(c: Ctx, k: Kind) -> None:
    body = k.obj("", c.ns)
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "gen-"
    c.step("create", "POST", k.path(c.ns), body,
           pick=lambda b: {"prefix": b["metadata"]["name"][:4], "len": len(b["metadata"]["name"]),
                           "generateName": b["metadata"].get("generateName")})


@scenario("create-duplicate", "a second create with the same name: 409 AlreadyExists")
def s_dup(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("dup", c.ns), keep_object=False)
    c.step("again", "POST", k.path(c.ns), k.obj("dup", c.ns))


@scenario("get-missing", "GET, DELETE and PATCH of a missing object: 404 NotFound")
def s_missing(c: Ctx, k: Kind) -> None:
    c.step("get", "GET", k.path(c.ns, "nope"))
    c.step("delete", "DELETE", k.path(c.ns, "nope"))
    c.step("patch", "PATCH", k.path(c.ns, "nope"), {"metadata": {"labels": {"a": "b"}}}, ctype=MERGE)


@scenario("create-bad-name", "invalid metadata.name: 422 with the name rules")
def s_bad_name(c: Ctx, k: Kind) -> None:
    c.step("upper", "POST", k.path(c.ns), k.obj("Bad_Name", c.ns))
    c.step("long", "POST", k.path(c.ns), k.obj("x" * 254, c.ns))


@scenario("create-name-mismatch", "the name in the URL differs from the body's on PUT: 400")
def s_mismatch(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), k.obj("mm", c.ns), keep_object=False)
    body = r.body
    body["metadata"]["name"] = "other"
    c.step("put", "PUT", k.path(c.ns, "mm"), body)


@scenario("create-wrong-kind", "a body of another kind or apiVersion: 400")
def s_wrong_kind(c: Ctx, k: Kind) -> None:
    body = k.obj("wk", c.ns)
    body["kind"] = "ConfigMap"
    c.step("kind", "POST", k.path(c.ns), body)
    body = k.obj("wk2", c.ns)
    body["apiVersion"] = "virtualization.deckhouse.io/v9"
    c.step("version", "POST", k.path(c.ns), body)


@scenario("create-malformed", "a body that is not JSON: 400")
def s_malformed(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), raw=b'{"apiVersion": ')


def _invalid(label: str, breaker: Callable[[dict[str, Any]], None]) -> Scenario:
    def run(c: Ctx, k: Kind) -> None:
        spec = k.spec()
        breaker(spec)
        c.step("create", "POST", k.path(c.ns), k.obj("bad", c.ns, spec))
        c.step("get", "GET", k.path(c.ns, "bad"))
    return run


for _label in sorted({lbl for k in KINDS for lbl, _ in k.invalid}):
    def _make(label: str) -> Scenario:
        def run(c: Ctx, k: Kind) -> None:
            breaker = dict(k.invalid)[label]
            _invalid(label, breaker)(c, k)
        return run
    scenario(f"create-invalid-{_label}", f"schema refusal ({_label}): 422 Invalid with causes",
             only=lambda k, lbl=_label: lbl in dict(k.invalid))(_make(_label))


@scenario("create-missing-spec", "no spec at all: 422 Required")
def s_no_spec(c: Ctx, k: Kind) -> None:
    body = k.obj("nospec", c.ns)
    del body["spec"]
    c.step("create", "POST", k.path(c.ns), body)


# -- field validation ------------------------------------------------------------------------------------

def _unknown_body(c: Ctx, k: Kind, name: str) -> dict[str, Any]:
    body = k.obj(name, c.ns)
    body["spec"]["bogusField"] = 1
    body["topLevelBogus"] = "x"
    body["metadata"]["bogusMeta"] = True
    return body


for _mode in ("Strict", "Warn", "Ignore", ""):
    def _make_fv(mode: str) -> Scenario:
        def run(c: Ctx, k: Kind) -> None:
            params = {"fieldValidation": mode} if mode else None
            c.step("create", "POST", k.path(c.ns), _unknown_body(c, k, "unk"), params=params)
            c.step("get", "GET", k.path(c.ns, "unk"), pick=lambda b: {"spec": b["spec"], "top": sorted(b)})
            body = k.obj("unk2", c.ns)
            body["spec"]["otherBogus"] = "y"
            c.step("patch", "PATCH", k.path(c.ns, "unk"), {"spec": {"otherBogus": "y"}}, ctype=MERGE,
                   params=params, pick=lambda b: b["spec"])
            c.step("apply", "PATCH", k.path(c.ns, "unk2"), json.dumps(body).encode(), ctype=APPLY,
                   params=dict(params or {}, fieldManager="fv"), pick=lambda b: b["spec"])
        return run
    scenario(f"field-validation-{(_mode or 'default').lower()}",
             f"unknown fields with fieldValidation={_mode or '(unset)'}: refusal, warnings, pruning")(_make_fv(_mode))


@scenario("field-validation-duplicate", "a duplicate JSON key under Strict and Warn")
def s_dup_key(c: Ctx, k: Kind) -> None:
    body = json.dumps(k.obj("dupkey", c.ns))
    raw = body[:-1] + ', "kind": "' + k.kind + '"}'
    c.step("strict", "POST", k.path(c.ns), raw=raw.encode(), params={"fieldValidation": "Strict"})
    c.step("warn", "POST", k.path(c.ns), raw=raw.encode(), params={"fieldValidation": "Warn"}, keep_object=False)


@scenario("checksum-sha1", "an http checksum sha1 (absent from the v1.10 schema)", only=lambda k: k.has_http)
def s_sha1(c: Ctx, k: Kind) -> None:
    spec = k.spec()
    spec["dataSource"]["http"]["checksum"] = {"sha1": "0a0a9f2a6772942557ab5355d76af442f8f65e01"}
    for mode in ("Strict", "Warn"):
        c.step(mode.lower(), "POST", k.path(c.ns), k.obj(f"sha1-{mode.lower()}", c.ns, spec),
               params={"fieldValidation": mode}, pick=lambda b: b["spec"])


# -- updates, generation, resourceVersion -------------------------------------------------------------------

@scenario("update-spec", "PUT a spec change: generation and resourceVersion move", only=lambda k: k.change is not None)
def s_update(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), k.obj("upd", c.ns), keep_object=False)
    body = r.body
    assert k.change
    k.change(body["spec"])
    r2 = c.step("put", "PUT", k.path(c.ns, "upd"), body)
    c.step("stale", "PUT", k.path(c.ns, "upd"), body)
    fresh = r2.body
    fresh["metadata"]["labels"] = {"x": "y"}
    c.step("labels", "PUT", k.path(c.ns, "upd"), fresh)


@scenario("update-labels", "metadata-only changes keep generation; a no-op keeps resourceVersion")
def s_labels(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), k.obj("lbl", c.ns), keep_object=False)
    body = r.body
    body["metadata"]["labels"] = {"app": "a"}
    body["metadata"]["annotations"] = {"note": "n"}
    r2 = c.step("put", "PUT", k.path(c.ns, "lbl"), body)
    c.step("noop-put", "PUT", k.path(c.ns, "lbl"), r2.body)
    c.step("noop-patch", "PATCH", k.path(c.ns, "lbl"), {"metadata": {"labels": {"app": "a"}}}, ctype=MERGE)


@scenario("update-no-rv", "PUT without metadata.resourceVersion: refused for custom resources")
def s_no_rv(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), k.obj("norv", c.ns), keep_object=False)
    body = r.body
    del body["metadata"]["resourceVersion"]
    body["metadata"]["labels"] = {"a": "b"}
    c.step("put", "PUT", k.path(c.ns, "norv"), body)


@scenario("update-missing", "PUT of an object that does not exist")
def s_put_missing(c: Ctx, k: Kind) -> None:
    c.step("put", "PUT", k.path(c.ns, "ghost"), k.obj("ghost", c.ns))


@scenario("update-invalid", "a PUT that breaks the schema: 422, object unchanged", only=lambda k: bool(k.invalid))
def s_update_invalid(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), k.obj("ui", c.ns), keep_object=False)
    body = r.body
    k.invalid[0][1](body["spec"])
    c.step("put", "PUT", k.path(c.ns, "ui"), body)
    c.step("get", "GET", k.path(c.ns, "ui"), pick=lambda b: {"spec": b["spec"], "gen": b["metadata"]["generation"]})


@scenario("immutable", "a change a CEL transition rule forbids", only=lambda k: k.immutable is not None)
def s_immutable(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), k.obj("imm", c.ns), keep_object=False)
    body = copy.deepcopy(r.body)
    assert k.immutable
    k.immutable(body["spec"])
    c.step("put", "PUT", k.path(c.ns, "imm"), body)
    c.step("patch", "PATCH", k.path(c.ns, "imm"), {"spec": body["spec"]}, ctype=MERGE)
    c.step("labels-ok", "PATCH", k.path(c.ns, "imm"), {"metadata": {"labels": {"ok": "1"}}}, ctype=MERGE)


# -- status subresource ---------------------------------------------------------------------------------------

@scenario("status-subresource", "status only via /status; /status ignores spec; generation unchanged")
def s_status(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), dict(k.obj("st", c.ns), status={"phase": "Pending"}))
    body = r.body
    body["status"] = {"phase": "Ready"}
    r2 = c.step("put-main", "PUT", k.path(c.ns, "st"), body)
    body = r2.body
    body["status"] = {"phase": "Ready"}
    body["metadata"]["labels"] = {"via": "status"}
    if k.change:
        k.change(body["spec"])
    c.step("put-status", "PUT", k.path(c.ns, "st", "status"), body)
    c.step("patch-status", "PATCH", k.path(c.ns, "st", "status"), {"status": {"phase": "Failed"}}, ctype=MERGE)
    c.step("get-status", "GET", k.path(c.ns, "st", "status"))
    c.step("status-invalid", "PATCH", k.path(c.ns, "st", "status"), {"status": {"phase": 7}}, ctype=MERGE)


# -- patches ------------------------------------------------------------------------------------------------

@scenario("merge-patch", "merge patch: set, replace and delete with null")
def s_merge(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("mp", c.ns, labels={"a": "1", "b": "2"}), keep_object=False)
    c.step("patch", "PATCH", k.path(c.ns, "mp"), {"metadata": {"labels": {"a": None, "c": "3"}}}, ctype=MERGE)
    if k.change:
        spec = k.spec()
        k.change(spec)
        c.step("spec", "PATCH", k.path(c.ns, "mp"), {"spec": spec}, ctype=MERGE)
    c.step("bad-json", "PATCH", k.path(c.ns, "mp"), raw=b"{not json", ctype=MERGE)
    c.step("strategic", "PATCH", k.path(c.ns, "mp"), {"metadata": {"labels": {"d": "4"}}},
           ctype="application/strategic-merge-patch+json")


@scenario("json-patch", "JSON patch: add/replace/remove/test; a failing test; a bad path")
def s_jsonpatch(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("jp", c.ns), keep_object=False)
    ops = [{"op": "add", "path": "/metadata/labels", "value": {"x": "1"}},
           {"op": "test", "path": "/metadata/name", "value": k.name("jp", c.ns)},
           {"op": "replace", "path": "/metadata/labels/x", "value": "2"}]
    c.step("ok", "PATCH", k.path(c.ns, "jp"), ops, ctype=JSONPATCH)
    c.step("test-fails", "PATCH", k.path(c.ns, "jp"), [{"op": "test", "path": "/metadata/name", "value": "zz"}],
           ctype=JSONPATCH)
    c.step("bad-path", "PATCH", k.path(c.ns, "jp"), [{"op": "remove", "path": "/spec/nothing/here"}], ctype=JSONPATCH)
    c.step("remove", "PATCH", k.path(c.ns, "jp"), [{"op": "remove", "path": "/metadata/labels/x"}], ctype=JSONPATCH)
    c.step("invalid-result", "PATCH", k.path(c.ns, "jp"), [{"op": "remove", "path": "/spec"}], ctype=JSONPATCH)


@scenario("patch-invalid", "a merge patch that breaks the schema: 422", only=lambda k: bool(k.invalid))
def s_patch_invalid(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("pi", c.ns), keep_object=False)
    spec = k.spec()
    k.invalid[0][1](spec)
    c.step("patch", "PATCH", k.path(c.ns, "pi"), {"spec": spec}, ctype=MERGE)


# -- server-side apply --------------------------------------------------------------------------------------

def _apply(c: Ctx, k: Kind, label: str, name: str, body: dict[str, Any], manager: str, **params: Any) -> Any:
    return c.step(label, "PATCH", k.path(c.ns, name), yaml.safe_dump(body).encode(), ctype=APPLY,
                  params=dict(params, fieldManager=manager))


@scenario("apply", "server-side apply: create, managedFields, re-apply is a no-op, field removal")
def s_apply(c: Ctx, k: Kind) -> None:
    body = k.obj("ap", c.ns, labels={"app": "a", "tier": "t"})
    _apply(c, k, "create", "ap", body, "alice")
    _apply(c, k, "again", "ap", body, "alice")
    del body["metadata"]["labels"]["tier"]
    _apply(c, k, "drop-label", "ap", body, "alice")
    c.step("no-manager", "PATCH", k.path(c.ns, "ap"), yaml.safe_dump(body).encode(), ctype=APPLY)


@scenario("apply-conflict", "server-side apply: a second manager conflicts; force takes ownership")
def s_apply_conflict(c: Ctx, k: Kind) -> None:
    body = k.obj("ac", c.ns, labels={"app": "a"})
    _apply(c, k, "alice", "ac", body, "alice")
    other = copy.deepcopy(body)
    other["metadata"]["labels"]["app"] = "b"
    _apply(c, k, "bob", "ac", other, "bob")
    _apply(c, k, "bob-force", "ac", other, "bob", force="true")
    shared = copy.deepcopy(other)
    _apply(c, k, "carol-same-value", "ac", shared, "carol")
    c.step("update-by-put-manager", "PATCH", k.path(c.ns, "ac"), {"metadata": {"labels": {"app": "c"}}},
           ctype=MERGE, params={"fieldManager": "dave"})


@scenario("apply-invalid", "server-side apply of an invalid object and with a wrong body")
def s_apply_invalid(c: Ctx, k: Kind) -> None:
    if k.invalid:
        spec = k.spec()
        k.invalid[0][1](spec)
        _apply(c, k, "invalid", "ai", k.obj("ai", c.ns, spec), "alice")
    body = k.obj("ai2", c.ns)
    del body["kind"]
    _apply(c, k, "no-kind", "ai2", body, "alice")
    _apply(c, k, "name-mismatch", "ai3", k.obj("other", c.ns), "alice")


# -- dry run ----------------------------------------------------------------------------------------------

@scenario("dry-run", "dryRun=All on create, update, patch, apply and delete: answered, nothing stored")
def s_dry(c: Ctx, k: Kind) -> None:
    dry = {"dryRun": "All"}
    c.step("create", "POST", k.path(c.ns), k.obj("dry", c.ns), params=dry)
    c.step("get-after-create", "GET", k.path(c.ns, "dry"))
    r = c.step("real-create", "POST", k.path(c.ns), k.obj("dry", c.ns), keep_object=False)
    body = r.body
    body["metadata"]["labels"] = {"dry": "run"}
    c.step("put", "PUT", k.path(c.ns, "dry"), body, params=dry)
    c.step("patch", "PATCH", k.path(c.ns, "dry"), {"metadata": {"labels": {"p": "1"}}}, ctype=MERGE, params=dry)
    _apply(c, k, "apply", "dry", k.obj("dry", c.ns, labels={"a": "1"}), "alice", dryRun="All")
    c.step("delete", "DELETE", k.path(c.ns, "dry"), params=dry)
    c.step("get-after-all", "GET", k.path(c.ns, "dry"))
    c.step("bad-value", "POST", k.path(c.ns), k.obj("dry2", c.ns), params={"dryRun": "Yes"})


# -- delete and finalizers ------------------------------------------------------------------------------------

@scenario("delete", "DELETE answers the object; preconditions on uid and resourceVersion")
def s_delete(c: Ctx, k: Kind) -> None:
    r = c.step("create", "POST", k.path(c.ns), k.obj("del", c.ns), keep_object=False)
    c.step("wrong-uid", "DELETE", k.path(c.ns, "del"),
           {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}})
    c.step("wrong-rv", "DELETE", k.path(c.ns, "del"),
           {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "1"}})
    c.step("delete", "DELETE", k.path(c.ns, "del"),
           {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": r.body["metadata"]["uid"]}})
    c.step("get", "GET", k.path(c.ns, "del"))


@scenario("finalizers", "a finalizer holds a deleted object; removing it completes the delete")
def s_finalizers(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("fin", c.ns, finalizers=["example.com/hold"]), keep_object=False)
    c.step("delete", "DELETE", k.path(c.ns, "fin"))
    c.step("get", "GET", k.path(c.ns, "fin"))
    c.step("delete-again", "DELETE", k.path(c.ns, "fin"))
    c.step("add-finalizer", "PATCH", k.path(c.ns, "fin"), {"metadata": {"finalizers": ["example.com/hold", "example.com/new"]}},
           ctype=MERGE)
    c.step("release", "PATCH", k.path(c.ns, "fin"), {"metadata": {"finalizers": None}}, ctype=MERGE)
    c.step("gone", "GET", k.path(c.ns, "fin"))


@scenario("delete-collection", "DELETE on the collection with a label selector")
def s_delete_collection(c: Ctx, k: Kind) -> None:
    for name, lbl in (("dc-a", "x"), ("dc-b", "x"), ("dc-c", "y")):
        c.step(f"create-{name}", "POST", k.path(c.ns), k.obj(name, c.ns, labels={"set": lbl, "case": c.ns}),
               keep_object=False)
    c.step("delete", "DELETE", k.path(c.ns), params={"labelSelector": f"set=x,case={c.ns}"},
           pick=lambda b: {"kind": b.get("kind"), "names": sorted(_names(b))})
    c.step("left", "GET", k.path(c.ns), params={"labelSelector": f"case={c.ns}"}, pick=_names)


# -- lists ----------------------------------------------------------------------------------------------

def _seed(c: Ctx, k: Kind, n: int = 5) -> None:
    for i in range(n):
        c.step(f"seed-{i}", "POST", k.path(c.ns),
               k.obj(f"item-{i}", c.ns, labels={"case": c.ns, "idx": str(i), "parity": "even" if i % 2 == 0 else "odd"}),
               keep_object=False)


@scenario("list-pagination", "limit and continue; remainingItemCount; an invalid continue token")
def s_pages(c: Ctx, k: Kind) -> None:
    _seed(c, k)
    sel = {"labelSelector": f"case={c.ns}"}
    page = lambda b: {"names": _names(b), "continue": b["metadata"].get("continue"),  # noqa: E731
                      "remaining": b["metadata"].get("remainingItemCount"), "kind": b.get("kind"),
                      "apiVersion": b.get("apiVersion")}
    r = c.step("page1", "GET", k.path(c.ns), params=dict(sel, limit="2"), pick=page)
    token = r.body["metadata"].get("continue", "")
    r = c.step("page2", "GET", k.path(c.ns), params=dict(sel, limit="2", **{"continue": token}), pick=page)
    token = r.body["metadata"].get("continue", "")
    c.step("page3", "GET", k.path(c.ns), params=dict(sel, limit="2", **{"continue": token}), pick=page)
    c.step("bad-token", "GET", k.path(c.ns), params=dict(sel, limit="2", **{"continue": "garbage"}))
    c.step("limit-0", "GET", k.path(c.ns), params=dict(sel, limit="0"), pick=page)


@scenario("list-selectors", "label and field selectors, set-based and invalid ones")
def s_selectors(c: Ctx, k: Kind) -> None:
    _seed(c, k)
    for label, sel in (("eq", "parity=even"), ("neq", "parity!=even"), ("in", "idx in (1,3,4)"),
                       ("notin", "idx notin (0,1)"), ("exists", "parity"), ("not-exists", "!nothing"),
                       ("multi", "parity=even,idx!=0")):
        c.step(f"label-{label}", "GET", k.path(c.ns), params={"labelSelector": f"case={c.ns},{sel}"},
               pick=lambda b: sorted(_names(b)))
    c.step("field-name", "GET", k.path(c.ns), params={"fieldSelector": f"metadata.name={k.name('item-2', c.ns)}"},
           pick=lambda b: _names(b))
    c.step("field-neq", "GET", k.path(c.ns), params={"labelSelector": f"case={c.ns}", "fieldSelector": f"metadata.name!={k.name('item-2', c.ns)}"},
           pick=lambda b: sorted(_names(b)))
    c.step("field-unknown", "GET", k.path(c.ns), params={"fieldSelector": "spec.foo=bar"})
    c.step("label-invalid", "GET", k.path(c.ns), params={"labelSelector": "a b c"})


@scenario("list-all", "list across namespaces (namespaced kinds) and the list's own fields", only=lambda k: k.namespaced)
def s_list_all(c: Ctx, k: Kind) -> None:
    _seed(c, k, 2)
    path = k.path(c.ns).replace(f"/namespaces/{c.ns}", "")
    c.step("all", "GET", path, params={"labelSelector": f"case={c.ns}"},
           pick=lambda b: {"kind": b["kind"], "apiVersion": b["apiVersion"], "names": _names(b),
                           "ns": [i["metadata"]["namespace"] for i in b["items"]]})


# -- watch ---------------------------------------------------------------------------------------------------

_events = watch_events


@scenario("watch", "watch from a list's resourceVersion: ADDED, MODIFIED, DELETED in order")
def s_watch(c: Ctx, k: Kind) -> None:
    sel = {"labelSelector": f"case={c.ns}"}
    r = c.step("list", "GET", k.path(c.ns), params=sel, pick=lambda b: {"resourceVersion": b["metadata"].get("resourceVersion")})
    rv = r.body["metadata"]["resourceVersion"]
    c.step("create", "POST", k.path(c.ns), k.obj("w1", c.ns, labels={"case": c.ns}), keep_object=False)
    c.step("label", "PATCH", k.path(c.ns, "w1"), {"metadata": {"labels": {"step": "2"}}}, ctype=MERGE, keep_object=False)
    c.step("delete", "DELETE", k.path(c.ns, "w1"), keep_object=False)
    c.record("events", _events(c.watch(k.path(c.ns), dict(sel, resourceVersion=rv), 3)))


@scenario("watch-resume", "resuming a watch from a resourceVersion in the middle replays only what followed")
def s_watch_resume(c: Ctx, k: Kind) -> None:
    sel = {"labelSelector": f"case={c.ns}"}
    c.step("create-a", "POST", k.path(c.ns), k.obj("wa", c.ns, labels={"case": c.ns}), keep_object=False)
    r = c.step("create-b", "POST", k.path(c.ns), k.obj("wb", c.ns, labels={"case": c.ns}), keep_object=False)
    mid = r.body["metadata"]["resourceVersion"]
    c.step("create-c", "POST", k.path(c.ns), k.obj("wc", c.ns, labels={"case": c.ns}), keep_object=False)
    c.step("modify-a", "PATCH", k.path(c.ns, "wa"), {"metadata": {"labels": {"m": "1"}}}, ctype=MERGE, keep_object=False)
    c.record("events", _events(c.watch(k.path(c.ns), dict(sel, resourceVersion=mid), 2)))
    c.record("initial", _events(c.watch(k.path(c.ns), dict(sel, resourceVersion="0"), 3)))


@scenario("watch-selector", "a watch with a label selector: an object leaving the selection is DELETED for it")
def s_watch_sel(c: Ctx, k: Kind) -> None:
    sel = {"labelSelector": f"case={c.ns},keep=yes"}
    r = c.step("list", "GET", k.path(c.ns), params=sel, pick=lambda b: len(b["items"]))
    rv = r.body["metadata"]["resourceVersion"]
    c.step("create", "POST", k.path(c.ns), k.obj("ws", c.ns, labels={"case": c.ns, "keep": "yes"}), keep_object=False)
    c.step("create-other", "POST", k.path(c.ns), k.obj("wo", c.ns, labels={"case": c.ns, "keep": "no"}), keep_object=False)
    c.step("unlabel", "PATCH", k.path(c.ns, "ws"), {"metadata": {"labels": {"keep": "no"}}}, ctype=MERGE, keep_object=False)
    c.step("relabel", "PATCH", k.path(c.ns, "wo"), {"metadata": {"labels": {"keep": "yes"}}}, ctype=MERGE, keep_object=False)
    c.record("events", _events(c.watch(k.path(c.ns), dict(sel, resourceVersion=rv), 3)))


@scenario("watch-expired", "a watch from a resourceVersion older than the server's history: 410 Expired")
def s_watch_expired(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("wx", c.ns, labels={"case": c.ns}), keep_object=False)
    c.server.compact()
    c.record("events", _events(c.watch(k.path(c.ns), {"labelSelector": f"case={c.ns}", "resourceVersion": "1"}, 1)))
    c.step("list-old-rv", "GET", k.path(c.ns), params={"labelSelector": f"case={c.ns}", "resourceVersion": "1",
                                                       "resourceVersionMatch": "Exact"})


# -- tables ----------------------------------------------------------------------------------------------

def _table(b: Any) -> Any:
    if not isinstance(b, dict) or b.get("kind") != "Table":
        return b
    cols = b.get("columnDefinitions", [])
    rows = []
    for row in b.get("rows", []):
        cells = [("<age>" if cols[i]["type"] == "date" and cell is not None else cell) if i < len(cols) else cell
                 for i, cell in enumerate(row.get("cells", []))]
        obj = row.get("object")
        rows.append({"cells": cells, "object": (obj or {}).get("kind") if obj else None,
                     "objectMeta": sorted((obj or {}).get("metadata", {})) if obj else None})
    return {"kind": b["kind"], "apiVersion": b.get("apiVersion"), "columnDefinitions": cols, "rows": rows}


@scenario("table", "Table output: column definitions, cells (ages normalised), includeObject")
def s_table(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("tb", c.ns, labels={"case": c.ns}), keep_object=False)
    c.step("status", "PATCH", k.path(c.ns, "tb", "status"), {"status": {"phase": "Ready", "progress": "100%"}},
           ctype=MERGE, keep_object=False)
    sel = {"labelSelector": f"case={c.ns}"}
    c.step("list", "GET", k.path(c.ns), params=sel, accept=TABLE, pick=_table)
    c.step("get", "GET", k.path(c.ns, "tb"), accept=TABLE, pick=_table)
    c.step("metadata", "GET", k.path(c.ns), params=dict(sel, includeObject="Metadata"), accept=TABLE, pick=_table)
    c.step("none", "GET", k.path(c.ns), params=dict(sel, includeObject="None"), accept=TABLE, pick=_table)
    c.step("empty", "GET", k.path(c.ns), params={"labelSelector": "nothing=here"}, accept=TABLE, pick=_table)


# -- kubectl -----------------------------------------------------------------------------------------------

def _manifest(k: Kind, c: Ctx, name: str, **meta: Any) -> str:
    return yaml.safe_dump(k.obj(name, c.ns, **meta))


@scenario("kubectl-get", "kubectl get, -o wide, -o yaml, describe", kubectl=True)
def s_kubectl_get(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("kg", c.ns, labels={"case": c.ns}), keep_object=False)
    kg = k.name("kg", c.ns)
    c.record("get", c.kubectl("get", k.plural, "-l", f"case={c.ns}"))
    c.record("get-wide", c.kubectl("get", k.plural, "-l", f"case={c.ns}", "-o", "wide"))
    c.record("get-name", c.kubectl("get", f"{k.plural}/{kg}", "-o", "name"))
    c.record("get-jsonpath", c.kubectl("get", f"{k.plural}/{kg}", "-o", "jsonpath={.spec}"))
    c.record("describe", c.kubectl("describe", k.plural, kg))
    c.record("get-missing", c.kubectl("get", k.plural, "missing"))


@scenario("kubectl-apply", "kubectl apply (client side), again, diff, apply --server-side", kubectl=True)
def s_kubectl_apply(c: Ctx, k: Kind) -> None:
    m = _manifest(k, c, "ka", labels={"case": c.ns})
    c.record("apply", c.kubectl("apply", "-f", "-", stdin=m))
    c.record("apply-again", c.kubectl("apply", "-f", "-", stdin=m))
    m2 = _manifest(k, c, "ka", labels={"case": c.ns, "v": "2"})
    c.record("diff", c.kubectl("diff", "-f", "-", stdin=m2))
    c.record("apply-changed", c.kubectl("apply", "-f", "-", stdin=m2))
    c.record("ssa", c.kubectl("apply", "--server-side", "--field-manager", "ci", "-f", "-", stdin=m2))
    m3 = _manifest(k, c, "ka", labels={"case": c.ns, "v": "3"})
    c.record("ssa-conflict", c.kubectl("apply", "--server-side", "--field-manager", "other", "-f", "-", stdin=m3))
    c.record("ssa-force", c.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager", "other", "-f", "-", stdin=m3))
    c.record("dry-run", c.kubectl("apply", "--dry-run=server", "-f", "-", stdin=_manifest(k, c, "ka-dry")))
    c.step("get", "GET", k.path(c.ns, "ka"), pick=lambda b: {"labels": b["metadata"].get("labels"),
                                                               "managers": sorted(f["manager"] for f in b["metadata"]["managedFields"])})


@scenario("kubectl-invalid", "kubectl apply of invalid and unknown-field manifests (client and server validation)", kubectl=True)
def s_kubectl_invalid(c: Ctx, k: Kind) -> None:
    body = k.obj("ki", c.ns)
    body["spec"]["bogusField"] = 1
    c.record("unknown-strict", c.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(body)))
    c.record("unknown-warn", c.kubectl("apply", "--validate=warn", "-f", "-", stdin=yaml.safe_dump(body)))
    if k.invalid:
        spec = k.spec()
        k.invalid[0][1](spec)
        c.record("invalid", c.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(k.obj("ki2", c.ns, spec))))


@scenario("kubectl-patch-wait-delete", "kubectl patch (merge, json), label, wait, delete", kubectl=True)
def s_kubectl_patch(c: Ctx, k: Kind) -> None:
    c.step("create", "POST", k.path(c.ns), k.obj("kp", c.ns, labels={"case": c.ns}), keep_object=False)
    kp = k.name("kp", c.ns)
    c.record("patch-merge", c.kubectl("patch", k.plural, kp, "--type=merge", "-p", '{"metadata":{"labels":{"p":"1"}}}'))
    c.record("patch-json", c.kubectl("patch", k.plural, kp, "--type=json",
                                     "-p", '[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]'))
    c.record("patch-noop", c.kubectl("patch", k.plural, kp, "--type=merge", "-p", '{"metadata":{"labels":{"p":"1"}}}'))
    c.record("label", c.kubectl("label", k.plural, kp, "extra=yes"))
    c.step("status", "PATCH", k.path(c.ns, "kp", "status"), {"status": {"phase": "Ready"}}, ctype=MERGE, keep_object=False)
    c.record("wait", c.kubectl("wait", f"{k.plural}/{kp}", "--for=jsonpath={.status.phase}=Ready", "--timeout=10s"))
    c.record("wait-timeout", c.kubectl("wait", f"{k.plural}/{kp}", "--for=jsonpath={.status.phase}=Failed", "--timeout=1s"))
    c.record("delete", c.kubectl("delete", k.plural, kp))
    c.record("delete-missing", c.kubectl("delete", k.plural, kp))
    c.record("wait-delete", c.kubectl("wait", f"{k.plural}/{kp}", "--for=delete", "--timeout=5s"))


def build_cases(line: str, has_kubectl: bool = True) -> list[Case]:
    """Every case of a line: each scenario for each kind it applies to (kubectl ones marked)."""
    from . import client_cases  # noqa: F401  (registers the scenarios of the collection's own paths)
    cases = []
    for k in KINDS:
        for name, title, fn, kubectl in SCENARIOS:
            only = getattr(fn, "only", None)
            if only is not None and not only(k):
                continue
            cases.append(Case(f"{line}/{k.short}/{name}", title,
                              (lambda c, fn=fn, k=k: fn(c, k)), needs_kubectl=kubectl))
    return cases
