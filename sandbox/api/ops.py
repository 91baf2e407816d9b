"""Create, update, patch and delete with kube-apiserver's semantics, on top of the Store.

One write pipeline (`_commit`) holds the rules every write shares: system metadata kept, status
only through /status, generation on spec changes, finalizer rules, validation, admission, managed
fields, no-op detection, dry run, and deletion once the last finalizer goes.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ..platform import DEFAULT as DEFAULT_PLATFORM
from . import errors, gojson, managed, patch as patches, pvc_resize, validation
from .admission_bridge import admit, check_apply
from .resources import ResourceType
from .store import Key, Store, rid

_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class WriteContext:
    """Who writes and how (from the request's query and headers)."""
    user: str
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Warn"
    force: bool = False
    warnings: list[str] = field(default_factory=list)
    platform: str = DEFAULT_PLATFORM     # the platform line served (schemas)
    write: str = "body"                  # "body" (create/update) or "patch" (merge/JSON patch)
    decode_errors: list[str] = field(default_factory=list)   # duplicate fields of the body
    raw_body: bytes | None = None        # the request body as sent (quoted back by some refusals)


def _status_separate(r: ResourceType) -> bool:
    return r.has_status


def _spec_view(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    o = copy.deepcopy(obj)
    md = o.get("metadata", {})
    md.pop("resourceVersion", None)
    for entry in md.get("managedFields") or []:
        entry.pop("time", None)      # a refreshed timestamp alone is not a change
    return o


class Api:
    def __init__(self, store: Store, on_change: Callable[[], None]) -> None:
        self.store = store
        self.on_change = on_change      # wakes the garbage collector

    # -- helpers -----------------------------------------------------------------------------
    def lookup(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """A stored object by kind name (for admission rules that read other objects)."""
        from .resources import RESOURCES
        for r in RESOURCES:
            if r.kind == kind:
                return self.store.get(self.key(r, namespace, name))
        return None

    def listing(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        """The stored objects of a kind in a namespace ("" for a cluster-scoped kind), for admission rules that
        compare an object with its siblings or search a kind (the default StorageClass)."""
        from .resources import RESOURCES
        for r in RESOURCES:
            if r.kind == kind:
                scope = namespace if r.namespaced else ""
                return [self.store.get(key) or {} for key in list(self.store.objects)
                        if key[0] == rid(r) and key[1] == scope]
        return []

    def key(self, r: ResourceType, ns: str, name: str) -> Key:
        return (rid(r), ns if r.namespaced else "", name)

    def get(self, r: ResourceType, ns: str, name: str) -> dict[str, Any]:
        obj = self.store.get(self.key(r, ns, name))
        if obj is None:
            raise errors.not_found(r.plural, r.group, name)
        return obj

    def _check_namespace(self, r: ResourceType, ns: str, name: str) -> None:
        if not r.namespaced:
            return
        from .resources import by_kind
        ns_type = by_kind("", "Namespace")
        assert ns_type is not None
        nso = self.store.get(self.key(ns_type, "", ns))
        if nso is None:
            raise errors.not_found("namespaces", "", ns)
        if nso["metadata"].get("deletionTimestamp"):
            err = errors.forbidden(r.plural, r.group, name,
                                   f"unable to create new content in namespace {ns} because it is "
                                   f"being terminated")
            err.status["details"]["causes"] = [{"reason": "NamespaceTerminating",
                                                "message": f"namespace {ns} is being terminated",
                                                "field": "metadata.namespace"}]
            raise err

    def _check_body(self, r: ResourceType, body: Any, ns: str, name: str | None,
                    ctx: WriteContext | None = None) -> dict[str, Any]:
        """The type checks of a create/update body, in the decoder's order and words."""
        raw = ctx.raw_body if ctx is not None and ctx.raw_body is not None else None
        if raw is None:
            raw = json.dumps(body, separators=(",", ":")).encode()
        if not isinstance(body, dict):
            raise errors.bad_request(f"the object provided is unrecognized (must be of type {r.kind}): "
                                     f"couldn't get version/kind; json parse error: "
                                     f"{gojson.cannot_unmarshal(body, gojson.FIND_KIND)} ({gojson.summarize(raw)})")
        if not body.get("kind"):
            raise errors.bad_request(f"the object provided is unrecognized (must be of type {r.kind}): Object "
                                     f"'Kind' is missing in '{raw.decode('utf-8', errors='replace')}' "
                                     f"({gojson.summarize(raw)})")
        api_version = body.get("apiVersion") or ""
        if api_version != r.api_version:
            mismatch = errors.bad_request(f"the API version in the data ({api_version}) does not match the "
                                          f"expected API version ({r.api_version})")
            group, version = _group_version(api_version) or ("", "")
            if r.custom and group == r.group and ctx is not None:
                # The CRD handler decodes the body as that (unserved) version first: with no schema for
                # it, every field beside apiVersion, kind and metadata is unknown.
                found = list(ctx.decode_errors) + [f'unknown field "{k}"' for k in sorted(body)
                                                   if k not in ("apiVersion", "kind", "metadata")]
                if found and ctx.field_validation == "Strict":
                    raise errors.bad_request(f'{body["kind"]} in version "{version}" cannot be handled as a '
                                             f'{r.kind}: strict decoding error: {", ".join(found)}')
                if ctx.field_validation == "Warn":
                    mismatch.warnings = found
            raise mismatch
        if body.get("kind") != r.kind:
            if r.custom:     # the CRD handler decodes first and validates the kind like any field
                md = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                raise errors.invalid(str(body.get("kind")), r.group, str(md.get("name") or name or ""), [
                    errors.cause("kind", "FieldValueInvalid",
                                 f'Invalid value: "{body.get("kind")}": must be {r.kind}')])
            raise errors.bad_request(f"the kind in the data ({body.get('kind')}) does not match "
                                     f"the expected kind ({r.kind})")
        problem = _object_meta_type_error(body.get("metadata"))
        if problem:
            version = (_group_version(body["apiVersion"]) or ("", ""))[1]
            raise errors.bad_request(f'{body["kind"]} in version "{version}" cannot be handled as a {r.kind}: '
                                     f'{problem}')
        if body.get("metadata") is None:
            body["metadata"] = {}
        md = body["metadata"]
        if r.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise errors.bad_request("the namespace of the provided object does not match the "
                                         "namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if name is not None and md.get("name") and md["name"] != name:
            raise errors.bad_request(f"the name of the object ({md['name']}) does not match the "
                                     f"name on the URL ({name})")
        if name is not None:
            md["name"] = name
        return body

    # -- the shared pipeline ---------------------------------------------------------------------
    def _commit(self, r: ResourceType, old: dict[str, Any] | None, new: dict[str, Any],
                ctx: WriteContext, subresource: str | None, applied: bool = False) -> dict[str, Any]:
        creating = old is None
        md = new["metadata"]
        sent_uid: str | None = None      # the uid an update carried (the stored one is kept)
        if creating:
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now()
            for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion",
                      "generation", "selfLink"):
                md.pop(k, None)
            if r.custom:
                md["generation"] = 1
            if r.has_status and not applied:
                new.pop("status", None)
        else:
            assert old is not None
            omd = old["metadata"]
            sent_uid = new["metadata"].get("uid")
            new = _split_status(r, old, new, subresource)
            md = new["metadata"]
            for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "generation", "namespace", "name"):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
        for k in ("labels", "annotations", "finalizers", "ownerReferences"):
            if k in md and not md[k]:
                del md[k]                                 # ObjectMeta omits empty ones
        if not r.custom:
            validation.default_core(r, new, creating)
        causes = validation.causes(r, new, old, sent_uid=sent_uid)
        if r.custom:
            try:
                new = admit(r, "CREATE" if creating else "UPDATE", new, old, subresource, ctx, self.lookup,
                            self.listing)
            except errors.ApiError as exc:
                raise _with_meta_causes(r, md["name"], causes, exc) from None
            md = new["metadata"]
        if causes:
            raise errors.invalid(r.kind, r.group, md["name"], causes)
        if old is not None and r.kind == "PersistentVolumeClaim":    # the validating admission plugin
            pvc_resize.check_resize(old, new, subresource, self.lookup)
        if old is not None and r.custom and _spec_view(new) != _spec_view(old):
            # Compared after admission pruned and defaulted, as the real server does: a PUT that
            # omits a defaulted field or carries a pruned one is not a spec change.
            md["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if not applied:
            managed.record_update(old, new, ctx.field_manager, r.api_version, subresource,
                                  _status_separate(r), now())
        if old is not None and _comparable(new) == _comparable(old):
            return old                                        # a no-op: no RV bump, no event
        if ctx.dry_run:
            if old is not None:
                md["resourceVersion"] = old["metadata"]["resourceVersion"]
            return new
        if old is not None and md.get("deletionTimestamp") and not _pending_finalizers(r, new):
            gone = self.store.remove(r, self.key(r, md.get("namespace", ""), md["name"]), new)
            self.on_change()
            # the answer shows the last stored resourceVersion; only the DELETED event carries a new one
            answer = copy.deepcopy(gone)
            answer["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return answer
        stored = self.store.put(r, new, old)
        if md.get("ownerReferences") or md.get("deletionTimestamp"):
            self.on_change()
        return stored

    # -- verbs -----------------------------------------------------------------------------------
    def create(self, r: ResourceType, ns: str, body: Any, ctx: WriteContext) -> dict[str, Any]:
        body = self._check_body(r, body, ns, None, ctx)
        md = body["metadata"]
        if not md.get("name"):
            if md.get("generateName"):
                md["name"] = md["generateName"] + "".join(random.choice(_GEN_CHARS) for _ in range(5))
            else:
                raise errors.invalid(r.kind, r.group, "", [errors.cause(
                    "metadata.name", "FieldValueRequired",
                    "Required value: name or generateName is required")])
        self._check_namespace(r, ns, md["name"])
        if self.store.get(self.key(r, ns, md["name"])) is not None:
            raise errors.already_exists(r.plural, r.group, md["name"])
        return self._commit(r, None, body, ctx, None)

    def update(self, r: ResourceType, ns: str, name: str, body: Any, ctx: WriteContext,
               subresource: str | None) -> dict[str, Any]:
        body = self._check_body(r, body, ns, name, ctx)
        old = self.get(r, ns, name)
        sent_uid = body["metadata"].get("uid")
        if sent_uid and sent_uid != old["metadata"]["uid"]:
            # a PUT body's uid is a precondition, checked by the storage before anything else
            raise errors.conflict(r.plural, r.group, name, (
                f"StorageError: invalid object, Code: 4, Key: {_storage_key(r, ns, name)}, ResourceVersion: 0, "
                f"AdditionalErrorMsg: Precondition failed: UID in precondition: {sent_uid}, UID in object meta: "
                f"{old['metadata']['uid']}"))
        want_rv = body["metadata"].get("resourceVersion")
        if not want_rv and not r.unconditional_update:
            # the registry's store qualifies this one by resource, not kind (pkg/registry/generic/registry/store.go)
            raise errors.invalid(r.plural, r.group, name, [errors.cause(
                "metadata.resourceVersion", "FieldValueInvalid",
                "Invalid value: 0x0: must be specified for an update")])
        if want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(r.plural, r.group, name, errors.STALE)
        return self._commit(r, old, body, ctx, subresource)

    def patch(self, r: ResourceType, ns: str, name: str, content_type: str, body: Any,
              ctx: WriteContext, subresource: str | None) -> dict[str, Any]:
        if content_type in (APPLY, APPLY_CBOR):
            return self._apply(r, ns, name, body, ctx, subresource)
        if ctx.force:
            raise errors.invalid("PatchOptions", "meta.k8s.io", "", [errors.cause(
                "force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch")])
        old = self.get(r, ns, name)
        ctx.write = "patch"
        if content_type == MERGE:
            new = patches.merge_patch(old, body)
        elif content_type == JSON_PATCH:
            new = patches.json_patch(old, body)
        elif content_type == STRATEGIC and not r.custom:
            new = patches.strategic_merge_patch(old, body)
        else:
            accepted = [JSON_PATCH, MERGE, APPLY] if r.custom else [JSON_PATCH, MERGE, STRATEGIC, APPLY]
            raise errors.unsupported_media(accepted)
        if not isinstance(new, dict):
            raise errors.bad_request("the patch produced a non-object")
        want_rv = (new.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(r.plural, r.group, name, errors.STALE)
        md = new.setdefault("metadata", {})
        if isinstance(md, dict) and md.get("name") and md["name"] != name:
            raise errors.bad_request(f"the name of the object ({md['name']}) does not match the name on the URL "
                                     f"({name})")
        if isinstance(md, dict) and r.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        if new.get("apiVersion") != r.api_version or new.get("kind") != r.kind:
            new["apiVersion"], new["kind"] = r.api_version, r.kind
        return self._commit(r, old, new, ctx, subresource)

    def _apply(self, r: ResourceType, ns: str, name: str, body: Any, ctx: WriteContext,
               subresource: str | None) -> dict[str, Any]:
        if not ctx.field_manager:
            raise errors.ApiError(errors.status_body(
                422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                'value: is required for apply patch', {"group": "meta.k8s.io", "kind": "PatchOptions",
                                                       "causes": [{"reason": "FieldValueRequired",
                                                                   "message": "Required value: is required for apply patch",
                                                                   "field": "fieldManager"}]}))
        # the field manager checks the applied object's group, version and kind before anything else
        api_version = body.get("apiVersion") if isinstance(body.get("apiVersion"), str) else ""
        kind = body.get("kind") if isinstance(body.get("kind"), str) else ""
        gv = _group_version(api_version)
        group, version = gv or ("", "")
        if gv is None:
            kind = ""
        if (group, version, kind) != (r.group, r.version, r.kind):
            raise errors.bad_request(f"invalid object type: {group}/{version}, Kind={kind}")
        body = self._check_body(r, body, ns, name)
        if body["metadata"].get("managedFields") is not None:
            raise errors.bad_request("metadata.managedFields must be nil")
        check_apply(r, body, ctx)
        old = self.store.get(self.key(r, ns, name))
        if old is None and subresource:
            raise errors.not_found(r.plural, r.group, name)
        if old is None:
            self._check_namespace(r, ns, name)
        new = managed.apply(old, body, ctx.field_manager, ctx.force, r.api_version, subresource,
                            _status_separate(r), now())
        if old is not None and body["metadata"].get("uid"):
            new["metadata"]["uid"] = body["metadata"]["uid"]     # applied like any field: immutable
        if old is not None:
            want_rv = body["metadata"].get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(r.plural, r.group, name, errors.STALE)
        return self._commit(r, old, new, ctx, subresource, applied=True)

    def delete(self, r: ResourceType, ns: str, name: str, options: dict[str, Any],
               ctx: WriteContext) -> tuple[dict[str, Any], bool]:
        """Delete or mark deleting; returns (object, deleted now)."""
        old = self.get(r, ns, name)
        md = old["metadata"]
        if r.kind == "Namespace" and name in PROTECTED_NAMESPACES:
            raise errors.forbidden("namespaces", "", name, "this namespace may not be deleted")
        pre = options.get("preconditions") or {}
        # Checked before the storage's own precondition check, as the registry's BeforeDelete does: its
        # Conflict names the kind where a resource would go (k8s.io/apiserver pkg/registry/rest/delete.go).
        if pre.get("uid") and pre["uid"] != md["uid"]:
            raise errors.conflict(r.kind, r.group, name,
                                  f"the UID in the precondition ({pre['uid']}) does not match the UID in record "
                                  f"({md['uid']}). The object might have been deleted and then recreated")
        if pre.get("resourceVersion") and pre["resourceVersion"] != md["resourceVersion"]:
            raise errors.conflict(r.kind, r.group, name,
                                  f"the ResourceVersion in the precondition ({pre['resourceVersion']}) does not "
                                  f"match the ResourceVersion in record ({md['resourceVersion']}). The object "
                                  f"might have been modified")
        if r.custom:
            admit(r, "DELETE", None, old, None, ctx, self.lookup)
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is True:
            policy = "Orphan"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise errors.invalid("DeleteOptions", "meta.k8s.io", "", [errors.cause(
                "propagationPolicy", "FieldValueNotSupported",
                f'Unsupported value: "{policy}": supported values: "Foreground", "Background", '
                f'"Orphan", "nil"')])
        new = copy.deepcopy(old)
        nmd = new["metadata"]
        fins = list(nmd.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in fins:
            fins.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in fins:
            fins.append("orphan")
        terminating_ns = r.kind == "Namespace"
        if not fins and not terminating_ns:
            if ctx.dry_run:
                return old, True
            gone = self.store.remove(r, self.key(r, ns, name))
            self.on_change()
            return gone, True
        if fins:
            nmd["finalizers"] = fins
        if not nmd.get("deletionTimestamp"):
            if nmd.get("generation", 0) > 0:
                nmd["generation"] = int(nmd["generation"]) + 1
            nmd["deletionTimestamp"] = now()
            nmd["deletionGracePeriodSeconds"] = 0
        if terminating_ns:
            new.setdefault("status", {})["phase"] = "Terminating"
        if ctx.dry_run or _comparable(new) == _comparable(old):
            return new, False
        stored = self.store.put(r, new, old)
        self.on_change()
        return stored, False


def _with_meta_causes(r: ResourceType, name: str, causes: list[dict[str, str]],
                      exc: errors.ApiError) -> errors.ApiError:
    """What a write answers when ObjectMeta validation found `causes` and admission refused with `exc`:
    decoding refusals (400, and strict patch decoding's 422 on `patch`) come first; schema and rule
    refusals of the kind are one 422 with the metadata causes in front; a webhook (403) is never
    reached, so the metadata causes alone."""
    if not causes or exc.code == 400 or exc.code >= 500:
        return exc
    details = exc.status.get("details") or {}
    if exc.code == 422 and details.get("kind") == r.kind and details.get("group") == r.group:
        return errors.invalid(r.kind, r.group, name, causes + list(details.get("causes") or []))
    if exc.code == 422:
        return exc
    return errors.invalid(r.kind, r.group, name, causes)


_META_TYPES = {"name": "string", "generateName": "string", "namespace": "string", "selfLink": "string",
               "uid": "string", "resourceVersion": "string", "generation": "int64",
               "deletionGracePeriodSeconds": "int64", "labels": "map[string]string",
               "annotations": "map[string]string", "finalizers": "[]string"}


def _object_meta_type_error(md: Any) -> str | None:
    """What decoding `metadata` into ObjectMeta refuses first (a wrong JSON type), in Go's words."""
    if md is None:
        return None
    if not isinstance(md, dict):
        return gojson.cannot_unmarshal(md, "v1.ObjectMeta")
    for key, value in md.items():
        want = _META_TYPES.get(key)
        if want is None or value is None:
            continue
        ok = {"string": lambda v: isinstance(v, str),
              "int64": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "map[string]string": lambda v: isinstance(v, dict),
              "[]string": lambda v: isinstance(v, list)}[want]
        if not ok(value):
            return gojson.cannot_unmarshal_field(value, f"ObjectMeta.{key}", want)
        members = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        for member in members:
            if member is not None and not isinstance(member, str):
                return gojson.cannot_unmarshal_field(member, f"ObjectMeta.{key}", "string")
    return None


def _storage_key(r: ResourceType, ns: str, name: str) -> str:
    """Where a kube-apiserver with the default etcd prefix keeps the object."""
    parts = ["/registry", r.group, r.plural] if r.group else ["/registry", r.plural]
    return "/".join(parts + ([ns] if r.namespaced else []) + [name])


def _group_version(api_version: str) -> tuple[str, str] | None:
    """schema.ParseGroupVersion: "" -> ("", ""), "v1" -> ("", "v1"), "g/v" -> ("g", "v"); None if invalid."""
    if not api_version:
        return "", ""
    parts = api_version.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None


def _split_status(r: ResourceType, old: dict[str, Any], new: dict[str, Any],
                  subresource: str | None) -> dict[str, Any]:
    """With a status subresource, /status changes only status and the main resource never does."""
    if subresource == "status":
        out = copy.deepcopy(old)
        out.pop("status", None)
        if new.get("status") is not None:
            out["status"] = new["status"]
        return out
    if r.has_status and subresource is None:
        new.pop("status", None)
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
    return new


def _pending_finalizers(r: ResourceType, obj: dict[str, Any]) -> list[str]:
    """What still holds a deleting object: metadata.finalizers (and a namespace's spec ones)."""
    fins = list(obj["metadata"].get("finalizers") or [])
    if r.kind == "Namespace":
        fins += (obj.get("spec") or {}).get("finalizers") or []
    return fins

