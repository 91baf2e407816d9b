# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The runner library: ensure an image (and its pull Secret) is present or absent.

Returns a result dict or raises an ImageError; it never exits the process.
``changed`` is decided by comparing wanted and live before any write.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.compare import (
    apply_metadata, merge_patch, metadata_patch, spec_differences,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.errors import ApiError, ImmutableSpec
from ansible_collections.deckhouse.virtualization.plugins.module_utils.kinds import (
    OWNED_SECRET_LABEL, PROVISIONED_PHASES, Kind, core_object_path,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.redaction import redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.spec import build_manifest, build_pull_secret
from ansible_collections.deckhouse.virtualization.plugins.module_utils.waiter import Waiter


def view(obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The part of an object a diff shows: identity, labels, annotations, spec."""
    if not obj:
        return {}
    meta = obj.get("metadata") or {}
    shown = {key: meta[key] for key in ("name", "namespace", "labels", "annotations") if meta.get(key)}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": shown,
            "spec": copy.deepcopy(obj.get("spec") or {})}


def patched_view(live: Mapping[str, Any], meta: Optional[Mapping[str, Any]],
                 spec: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The diff's "after" for a patch: ``live`` with the metadata patch applied and, when given, the new spec."""
    after = view(live)
    after["metadata"] = apply_metadata(after["metadata"], meta)
    if spec is not None:
        after["spec"] = copy.deepcopy(spec)
    return after


def locked_spec_message(ref: str, live: Mapping[str, Any], differing: List[str], how_to_recreate: str) -> str:
    """Why a provisioned image's spec cannot be patched, and the option that replaces it instead."""
    return ("%s is already provisioned (phase %s) and the platform rejects changes to its spec; differing fields: "
            "%s. Set %s to delete it and create it anew." % (ref, cond.phase(live), ", ".join(differing),
                                                             how_to_recreate))


def recreate(client: Client, waiter: Waiter, path: str, live: Mapping[str, Any], timeout: float,
             tracker: Tracker, create: Callable[[], Any]) -> Any:
    """Delete, wait until the name is free (whatever ``wait`` says), then ``create()``.
    Check mode stops after the dry-run delete and returns ``live``."""
    tracker.note("deleting to recreate with the new spec")
    client.delete(path)
    if client.check_mode:
        return live
    waiter.wait("absent", timeout, live)
    return create()


class ImageRunner:
    """One run of virtual_image / cluster_virtual_image."""

    def __init__(self, client: Client, kind: Kind, params: Mapping[str, Any], tracker: Tracker) -> None:
        self.client = client
        self.kind = kind
        self.params = params
        self.name: str = params["name"]
        self.namespace: Optional[str] = params.get("namespace") if kind.namespaced else None
        self.path = kind.object_path(self.name, self.namespace)
        self.collection = kind.collection_path(self.namespace)
        self.tracker = tracker
        self.waiter = Waiter(client, kind, self.name, self.namespace, on_update=tracker.update)
        self.started = time.monotonic()
        self.diff: Dict[str, Any] = {"before": {}, "after": {}}

    @property
    def check_mode(self) -> bool:
        return self.client.check_mode

    def _timeout(self) -> float:
        return float(self.params.get("wait_timeout") or 0)

    def run(self) -> Dict[str, Any]:
        """Dispatch on ``state``."""
        if self.params.get("state") == "absent":
            return self.ensure_absent()
        return self.ensure_present()

    # -- present -----------------------------------------------------------
    def ensure_present(self) -> Dict[str, Any]:
        """Create, patch or recreate; then wait for Ready when asked."""
        wanted = build_manifest(self.params, self.kind)
        secret = build_pull_secret(self.params, self.kind)
        live = self.client.get(self.path)
        if live is not None and (live.get("metadata") or {}).get("deletionTimestamp") and not self.check_mode:
            self.tracker.note("waiting for the previous object to finish terminating")
            live = self.waiter.wait("absent", self._timeout(), live)
        changed = self._ensure_secret(secret) if secret else False
        if live is None:
            obj = self._create(wanted)
            self.diff = {"before": {}, "after": view(obj)}
            changed = True
        else:
            obj, updated = self._update(live, wanted)
            changed = changed or updated
        if secret and not self.check_mode:
            self._own_secret(secret, obj)
        if self.params.get("wait") and not self.check_mode:
            obj = self.waiter.wait("ready", self._timeout(), obj)
        else:
            self.tracker.update(obj)
        return self._result(changed, obj)

    def _create(self, wanted: Dict[str, Any]) -> Dict[str, Any]:
        """POST; a 409 AlreadyExists after a retried POST means our first attempt landed."""
        try:
            return self.client.create(self.collection, wanted)
        except ApiError as exc:
            if exc.status != 409 or exc.reason != "AlreadyExists" or self.check_mode:
                raise
            live = self.client.get(self.path)
            if live is None or spec_differences(wanted.get("spec"), live.get("spec")):
                raise
            return live

    def _update(self, live: Dict[str, Any], wanted: Dict[str, Any]) -> Any:
        """Patch what differs; (object, changed)."""
        differing = spec_differences(wanted.get("spec"), live.get("spec"))
        meta = metadata_patch(wanted.get("metadata") or {}, live.get("metadata") or {})
        if differing and cond.phase(live) in PROVISIONED_PHASES:
            if not self.params.get("recreate"):
                raise ImmutableSpec(
                    locked_spec_message(self.kind.ref(self.name, self.namespace), live, differing, "recreate: true"),
                    image=live, differing_fields=differing, conditions=(live.get("status") or {}).get("conditions"))
            return self._recreate(live, wanted), True
        if not differing and not meta:
            self.diff = {"before": view(live), "after": view(live)}
            return live, False
        patch: Dict[str, Any] = {}
        if meta:
            patch["metadata"] = meta
        if differing:
            patch["spec"] = merge_patch(live.get("spec") or {}, wanted.get("spec") or {})
        obj = self.client.patch(self.path, patch)
        self.diff = {"before": view(live), "after": patched_view(live, meta, wanted["spec"] if differing else None)}
        return obj, True

    def _recreate(self, live: Dict[str, Any], wanted: Dict[str, Any]) -> Dict[str, Any]:
        """Delete, wait until gone, create anew (check mode: only the dry-run delete)."""
        obj = recreate(self.client, self.waiter, self.path, live, self._timeout(), self.tracker,
                       lambda: self._create(wanted))
        self.diff = {"before": view(live), "after": view(wanted if self.check_mode else obj)}
        return obj

    # -- the pull Secret -----------------------------------------------------
    def _secret_path(self, secret: Mapping[str, Any]) -> str:
        meta = secret["metadata"]
        return core_object_path("secrets", meta["name"], meta["namespace"])

    def _ensure_secret(self, secret: Dict[str, Any]) -> bool:
        """Create or update the owned Secret; True when it was written."""
        path = self._secret_path(secret)
        live = self.client.get(path)
        if live is None:
            self.client.create(core_object_path("secrets", None, secret["metadata"]["namespace"]), secret)
            return True
        if (live.get("data") or {}) == secret["data"] and live.get("type") == secret["type"]:
            return False
        self.client.patch(path, {"data": secret["data"],
                                 "metadata": {"labels": secret["metadata"]["labels"]}})
        return True

    def _own_secret(self, secret: Mapping[str, Any], obj: Mapping[str, Any]) -> None:
        """Point the Secret's ownerReference at the image so it goes with it."""
        uid = (obj.get("metadata") or {}).get("uid")
        path = self._secret_path(secret)
        live = self.client.get(path) or {}
        refs = (live.get("metadata") or {}).get("ownerReferences") or []
        if not uid or any(ref.get("uid") == uid for ref in refs):
            return
        owner = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": self.name, "uid": uid}
        self.client.patch(path, {"metadata": {"ownerReferences": [owner]}})

    def _delete_owned_secret(self, live: Mapping[str, Any]) -> None:
        """Delete the pull Secret this module created for the image (label-checked)."""
        ref = (((live.get("spec") or {}).get("dataSource") or {}).get("containerImage") or {}).get("imagePullSecret")
        if not ref or not ref.get("name"):
            return
        namespace = ref.get("namespace") or self.namespace
        if not namespace:
            return
        path = core_object_path("secrets", ref["name"], namespace)
        secret = self.client.get(path)
        if secret and OWNED_SECRET_LABEL in ((secret.get("metadata") or {}).get("labels") or {}):
            self.client.delete(path)

    # -- absent --------------------------------------------------------------
    def ensure_absent(self) -> Dict[str, Any]:
        """Delete (and wait until gone when asked)."""
        live = self.client.get(self.path)
        if live is None:
            return self._result(False, None)
        changed = False
        if not (live.get("metadata") or {}).get("deletionTimestamp"):
            self.client.delete(self.path)
            changed = True
            self.diff = {"before": view(live), "after": {}}
        self._delete_owned_secret(live)
        obj: Optional[Mapping[str, Any]] = live
        if self.params.get("wait") and not self.check_mode:
            obj = self.waiter.wait("absent", self._timeout())
        return self._result(changed, obj)

    def _result(self, changed: bool, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        result: Dict[str, Any] = {
            "changed": changed,
            "image": redact_image(without_managed_fields(obj)),  # upload URLs are credentials
            "phase": cond.phase(obj),
            "progress": cond.progress(obj),
            "duration": round(time.monotonic() - self.started, 3),
            "phases": self.tracker.phases,
        }
        result["diff"] = self.diff
        return result


def without_managed_fields(obj: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """The object without metadata.managedFields (bookkeeping nobody reads in a task result)."""
    if obj is None:
        return None
    trimmed = dict(obj)
    trimmed["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return trimmed


def conditions_of(obj: Optional[Mapping[str, Any]]) -> List[Any]:
    """status.conditions (for failure results)."""
    return ((obj or {}).get("status") or {}).get("conditions") or []
