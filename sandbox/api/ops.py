"""Create, update, patch and delete with kube-apiserver's semantics, on top of the Store.

One write pipeline (`_commit`) holds the rules every write shares: system metadata kept, status
only through /status, generation on spec changes, finalizer rules, validation, admission, managed
fields, no-op detection, dry run, and deletion once the last finalizer goes.
"""
from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ..platform import DEFAULT as DEFAULT_PLATFORM
from . import errors, managed, patch as patches, validation
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

    def _check_body(self, r: ResourceType, body: Any, ns: str, name: str | None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request could not be decoded as an object")
        if not body.get("kind"):
            raise errors.bad_request(f"Object 'Kind' is missing in '{_short(body)}'")
        if body.get("apiVersion") != r.api_version:
            raise errors.bad_request(f"the API version in the data ({body.get('apiVersion')}) does "
                                     f"not match the expected API version ({r.api_version})")
        if body.get("kind") != r.kind:
            if r.custom:     # the CRD handler decodes first and validates the kind like any field
                md = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                raise errors.invalid(str(body.get("kind")), r.group, str(md.get("name") or name or ""), [
                    errors.cause("kind", "FieldValueInvalid",
                                 f'Invalid value: "{body.get("kind")}": must be {r.kind}')])
            raise errors.bad_request(f"the kind in the data ({body.get('kind')}) does not match "
                                     f"the expected kind ({r.kind})")
        md = body.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise errors.bad_request("metadata must be an object")
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
            new = _split_status(r, old, new, subresource)
            md = new["metadata"]
            for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "generation", "namespace", "name"):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
            if omd.get("deletionTimestamp"):
                added = [f for f in md.get("finalizers") or [] if f not in (omd.get("finalizers") or [])]
                if added:
                    raise errors.invalid(r.kind, r.group, md["name"], [errors.cause(
                        "metadata.finalizers", "FieldValueForbidden",
                        "Forbidden: no new finalizers can be added if the object is being deleted, "
                        "found new finalizers []string{" + ", ".join(f'"{f}"' for f in added) + "}")])
        for k in ("labels", "annotations", "finalizers", "ownerReferences"):
            if k in md and not md[k]:
                del md[k]                                 # ObjectMeta omits empty ones
        if not r.custom:
            validation.default_core(r, new, creating)
        validation.validate(r, new)
        if r.custom:
            result = admit(r, "CREATE" if creating else "UPDATE", new, old, subresource, ctx,
                           self.lookup)
            new = result
            md = new["metadata"]
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
        body = self._check_body(r, body, ns, None)
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
        body = self._check_body(r, body, ns, name)
        old = self.get(r, ns, name)
        want_rv = body["metadata"].get("resourceVersion")
        if not want_rv and not r.unconditional_update:
            raise errors.invalid(r.kind, r.group, name, [errors.cause(
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
        new.setdefault("metadata", {})
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
        if pre.get("uid") and pre["uid"] != md["uid"]:
            raise errors.conflict(r.plural, r.group, name,
                                  f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                                  f"object meta: {md['uid']}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != md["resourceVersion"]:
            raise errors.conflict(r.plural, r.group, name,
                                  f"Precondition failed: ResourceVersion in precondition: "
                                  f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                  f"{md['resourceVersion']}")
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


def _short(body: dict[str, Any]) -> str:
    import json
    text = json.dumps(body, separators=(",", ":"))
    return text if len(text) < 200 else text[:200] + "..."
