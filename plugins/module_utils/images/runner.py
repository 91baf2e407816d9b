# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The image runner: ensure one image (and its pull Secret) present or absent, as an ImageRequest asks.

Returns a result dict or raises an TaskError; it never exits the process. What to write is decided by
decision.decide from the live and the wanted object before any write. For ``source.upload`` the image is
ensured without waiting, then the upload runner streams the file into it and waits for Ready.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping, Optional

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.compare import spec_differences
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ApiError, ImmutableSpec, InUse, ObjectFailed,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    OWNED_SECRET_LABEL, core_object_path,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_image
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import (
    UPLOAD_CHECKSUM, align_upload_checksum, create_image, refuse_unknown,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.failure import explain_failure
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.request import ImageRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import summarize
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import (
    UsageIndex, absent_or_held, absent_unless_held,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, IMAGE_LOCK, KEEP, PATCH, RECREATE, REFUSE, SpecLock, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.ensure import EnsureRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.replace import delete, recreate
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import (
    patched_view, view, without_managed_fields,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import (
    IMAGE_UPLOAD, UploadRules, UploadRunner,
)


class ImageRunner(EnsureRunner):
    """One run of an ImageRequest (virtual_image, cluster_virtual_image, and the images capture makes).

    The class attributes are what another kind with the same life (create, patch before provisioning, locked
    after, source.upload) changes: disks/runner.py's DiskRunner."""

    lock: SpecLock = IMAGE_LOCK
    upload_rules: UploadRules = IMAGE_UPLOAD
    result_key = "image"
    remakes_failed = True   # see _remakes
    summarize = staticmethod(summarize)   # the flat ``summary`` of the result, as the info module gives it

    def __init__(self, client: Client, request: ImageRequest, tracker: Tracker) -> None:
        self.client = client
        self.request = request
        self.kind = request.kind
        self.name = request.name
        self.namespace = request.namespace
        self.path = request.kind.object_path(self.name, self.namespace)
        self.collection = request.kind.collection_path(self.namespace)
        self.tracker = tracker
        self.waiter = Waiter(client, request.kind, self.name, self.namespace, on_update=tracker.update)
        self.started = time.monotonic()
        self.diff: Dict[str, Any] = {"before": {}, "after": {}}
        self.platform_checks_upload = True  # False once the cluster is known to lack the upload's checksum field

    @property
    def check_mode(self) -> bool:
        return self.client.check_mode

    def _timeout(self) -> float:
        return self.request.wait_timeout

    # -- present -----------------------------------------------------------
    def ensure_present(self) -> Dict[str, Any]:
        """Create, patch or recreate; then upload (``source.upload``) or wait for Ready when asked."""
        wanted = self.request.manifest or {}
        secret = self.request.pull_secret
        live = self.client.get(self.path)
        if live is not None and (live.get("metadata") or {}).get("deletionTimestamp") and not self.check_mode:
            self.tracker.note("waiting for the previous object to finish terminating")
            live = self.waiter.wait("absent", self._timeout(), live)
        wanted = self.before_writes(wanted, live)
        if self.request.upload is not None:
            wanted, platform_checks = align_upload_checksum(self.client, self.kind, wanted, live)
            self.platform_checks_upload = platform_checks is not False
        changed = self._ensure_secret(secret) if secret else False
        obj, updated = self._ensure(live, wanted)
        changed = changed or updated
        if secret and not self.check_mode:
            self._own_secret(secret, obj)
        if self.request.upload is not None:
            return self._upload(obj, changed, self.request.upload)
        if self.request.wait and not self.check_mode:
            try:
                obj = self.waiter.wait(self.ready_goal(), self._timeout(), obj)
            except ObjectFailed as exc:
                failed = exc.details.get("image") or {}
                raise ObjectFailed(explain_failure(failed, exc.msg), **exc.details) from None
        else:
            self.tracker.update(obj)
        return self._result(changed, obj)

    def before_writes(self, wanted: Dict[str, Any], live: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """The last look before any write: ``wanted`` completed with what the user left to the live object, or an
        error for what must not be written (images: nothing to add or refuse)."""
        return wanted

    def ready_goal(self) -> str:
        """The waiter goal of ``wait``."""
        return "ready"

    def check_recreate(self, live: Mapping[str, Any], differing: Any) -> None:
        """Raise when ``live`` must not be recreated although its spec differs (images: always allowed)."""

    def _ensure(self, live: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Any:
        """Carry out the decision; (object, changed)."""
        decision = decide(live, wanted, self.request.ref, self.request.recreate, self.request.how_to_recreate,
                          lock=self.lock)
        if decision.verb == CREATE:
            obj = self._create(wanted)
            self.diff = {"before": {}, "after": view(obj)}
            return obj, True
        live = live or {}  # only CREATE comes without a live object
        if decision.verb == REFUSE:
            raise ImmutableSpec(decision.message, image=live, differing_fields=decision.differing,
                                conditions=cond.conditions(live))
        if decision.verb == RECREATE:
            self.check_recreate(live, decision.differing)
            obj = recreate(self.client, self.waiter, self.path, live, self._timeout(), self.tracker,
                           lambda: self._create(wanted), "its spec differs: %s" % ", ".join(decision.differing))
            self.diff = {"before": view(live), "after": view(wanted if self.check_mode else obj)}
            return obj, True
        if decision.verb in (KEEP, PATCH) and self._remakes(live):
            ready = cond.condition(live, "Ready") or {}
            why = ("it is Failed (%s) and the platform does not import a Failed image again"
                   % (ready.get("message") or ready.get("reason") or "no message"))
            warn("%s: made anew: %s" % (self.request.ref, why))
            obj = recreate(self.client, self.waiter, self.path, live, self._timeout(), self.tracker,
                           lambda: self._create(wanted), why)
            self.diff = {"before": view(live), "after": view(wanted if self.check_mode else obj)}
            return obj, True
        if decision.verb == KEEP:
            self.diff = {"before": view(live), "after": view(live)}
            return live, False
        patch = decision.patch or {}
        try:
            obj = self.client.patch(self.path, patch)
        except ApiError as exc:
            refuse_unknown(exc, self.kind, self.request.option_style)
            raise
        self.diff = {"before": view(live),
                     "after": patched_view(live, patch.get("metadata"), wanted["spec"] if "spec" in patch else None)}
        return obj, True

    def _remakes(self, live: Mapping[str, Any]) -> bool:
        """A Failed image holds nothing (nothing can use it) and the platform never imports it again, so a task that
        wants it Ready from its source makes it anew. Uploads have their own rule (``retries``); disks override."""
        return (self.remakes_failed and self.request.upload is None and cond.phase(live) == "Failed"
                and not (live.get("metadata") or {}).get("deletionTimestamp"))

    def _create(self, wanted: Dict[str, Any]) -> Dict[str, Any]:
        """POST; a 409 AlreadyExists after a retried POST means our first attempt landed. A cluster without the
        upload checksum field gets the image without it (the module still verifies the bytes it sends)."""
        try:
            obj, self.platform_checks_upload = create_image(self.client, self.kind, wanted, self.request.option_style,
                                                            self.request.upload is not None)
            return obj
        except ApiError as exc:
            if exc.status != 409 or exc.reason != "AlreadyExists" or self.check_mode:
                raise
            live = self.client.get(self.path)
            if live is None or spec_differences(wanted.get("spec"), live.get("spec")):
                raise
            return live

    def _upload(self, obj: Mapping[str, Any], changed: bool, upload: UploadOptions) -> Dict[str, Any]:
        """Stream ``source.upload.path`` into the image just ensured; the upload's result, with this run's
        diff when this run changed the object, and the time of both."""
        if upload.checksum and not self.platform_checks_upload:
            warn("%s: this cluster's %s API has no %s, so the platform does not verify the checksums given in "
                 "source.upload.checksum; the module verifies the bytes it sends against them (before the last byte)"
                 % (self.request.ref, self.kind.kind, UPLOAD_CHECKSUM))
        result = UploadRunner(self.client, self.kind, self.name, self.namespace, upload, self.tracker,
                              rules=self.upload_rules).run(obj)
        result[self.result_key] = result.pop("image")
        result["changed"] = changed or result["changed"]
        if changed:
            result["diff"] = self.diff
        result["duration"] = round(time.monotonic() - self.started, 3)
        return result

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
    def absent_goal(self) -> Any:
        """What "deleted" means for this kind: gone, failing at once when a VirtualMachine holds it."""
        return absent_unless_held(self.client, self.request.kind)

    def refuse_delete(self, live: Mapping[str, Any]) -> List[str]:
        """Before any write of ``state: absent``: refuse to delete an image something uses, naming the users, unless
        ``force``; the users of a forced delete (for the result). Disks check their own users."""
        if (live.get("metadata") or {}).get("deletionTimestamp"):
            return []
        users = UsageIndex(self.client).of(live, self.kind).users
        if users and not self.request.force:
            raise InUse("%s is used by %s: deleting it would take it from under them (a virtual machine keeps it "
                        "Terminating, a disk being filled from it fails). Detach it or wait for them first, or set "
                        "force: true to delete it anyway (then pending until no virtual machine uses it); nothing "
                        "was written" % (self.request.ref, ", ".join(users)), used_by=users)
        return users

    def ensure_absent(self) -> Dict[str, Any]:
        """Delete (and wait until gone when asked); refused while used unless forced (``refuse_delete``). A forced
        delete that a virtual machine holds ends with a warning: the platform deletes the image once it lets go."""
        live = self.client.get(self.path)
        if live is None:
            return self._result(False, None)
        users = self.refuse_delete(live)
        goal = (absent_or_held, "be deleted") if users else self.absent_goal()
        changed, obj, diff = delete(self.client, self.waiter, self.path, live, self.request.wait, self._timeout(),
                                    goal)
        if changed:
            self.diff = diff
        self._delete_owned_secret(live)
        result = self._result(changed, obj)
        if users and obj is not None:
            result["held_by"] = users
            warn("%s is Terminating: the platform deletes it once nothing uses it (%s)"
                 % (self.request.ref, ", ".join(users)))
        return result

    def _result(self, changed: bool, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        result: Dict[str, Any] = {
            "changed": changed,
            self.result_key: redact_image(without_managed_fields(obj)),  # upload URLs are credentials
            "phase": cond.phase(obj),
            "progress": cond.progress(obj),
            "duration": round(time.monotonic() - self.started, 3),
            "phases": self.tracker.phases,
        }
        result["summary"] = self.summarize(obj) if obj is not None else None
        result["diff"] = self.diff
        return result
