# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The run every kind of object shares: ensure one object present or absent, as its request asks.

Present: wait out a previous object that is still terminating, take a last look before any write
(``before_writes``), write what the object needs first (``write_first``), then carry out decision.decide's verdict
(create, patch, recreate, keep or refuse) and wait for the kind's ready goal. Absent: refuse what must not be
deleted (``refuse_delete``), delete, wait for the kind's absent goal. Every result and every failure names the
object under the kind's ``result_key``, as a result shows it. What differs per kind is in KindRules (kind.py);
the request is read through ObjectRequest.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Generic, Mapping, Optional, Protocol, Tuple, TypeVar

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.compare import spec_differences
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, KEEP, RECREATE, REFUSE, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.ensure import EnsureRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.kind import KindRules
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.replace import delete, recreate
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import patched_view, view

# The key under which the waiter and the upload runner name the object in an error's details (and the upload
# runner in its result): each kind's runner gives it under its own ``result_key`` (see named).
REPORTED_AS = "image"


class ObjectRequest(Protocol):
    """What the shared run reads of a request (read-only, so the typed NamedTuple requests fit)."""

    @property
    def kind(self) -> Kind: ...

    @property
    def name(self) -> str: ...

    @property
    def namespace(self) -> Optional[str]: ...

    @property
    def manifest(self) -> Optional[Dict[str, Any]]: ...  # None: make the object absent

    @property
    def recreate(self) -> bool: ...

    @property
    def how_to_recreate(self) -> str: ...

    @property
    def wait(self) -> bool: ...

    @property
    def wait_timeout(self) -> float: ...

    @property
    def ref(self) -> str: ...


R = TypeVar("R", bound=ObjectRequest)


def named(details: Dict[str, Any], key: str, shown: Any) -> None:
    """Put the object the lower layers report under REPORTED_AS (or the kind's ``key``) under ``key``, as
    ``shown(object)`` gives it; nothing when no object is named."""
    found = [details.pop(k) for k in (REPORTED_AS, key) if k in details]
    if found:
        details[key] = shown(found[-1])


class ObjectRunner(KindRules, EnsureRunner, Generic[R]):
    """One run of one object's request; what a kind may change is in KindRules (kind.py), and the two steps after
    a write, ``after_write`` and ``wait_ready``, here."""

    def __init__(self, client: Client, request: R, tracker: Tracker) -> None:
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

    @property
    def check_mode(self) -> bool:
        return self.client.check_mode

    def _timeout(self) -> float:
        return self.request.wait_timeout

    def duration(self) -> float:
        """Seconds since the run started, as results give them."""
        return round(time.monotonic() - self.started, 3)

    def run(self) -> Dict[str, Any]:
        """Present or absent; a failure names the object under ``result_key`` as a result does."""
        try:
            return super().run()
        except TaskError as exc:
            named(exc.details, self.result_key, self.shown)
            raise

    def wait_ready(self, obj: Mapping[str, Any]) -> Any:
        """Wait for ``ready_goal``; a kind may add to the failure's words."""
        return self.waiter.wait(self.ready_goal(), self._timeout(), obj)

    def after_write(self, obj: Any, changed: bool) -> Dict[str, Any]:
        """The result once the object is written: wait for it to be ready when asked (not in check mode)."""
        if self.request.wait and not self.check_mode:
            obj = self.wait_ready(obj)
        else:
            self.tracker.update(obj)
        return self.result(changed, obj)

    # -- the shared run -----------------------------------------------------------------------------
    def ensure_present(self) -> Dict[str, Any]:
        """Create, patch or recreate; then wait as the kind says (``after_write``)."""
        live = self.client.get(self.path)
        if live is not None and (live.get("metadata") or {}).get("deletionTimestamp") and not self.check_mode:
            self.tracker.note("waiting for the previous object to finish terminating")
            live = self.waiter.wait("absent", self._timeout(), live)
        wanted = self.before_writes(self.request.manifest or {}, live)
        changed = self.write_first()
        obj, updated = self._write(live, wanted)
        return self.after_write(obj, changed or updated)

    def _write(self, live: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Tuple[Any, bool]:
        """Carry out the decision; (object, changed)."""
        decision = decide(live, wanted, self.request.ref, self.request.recreate, self.request.how_to_recreate,
                          lock=self.lock)
        if decision.verb == CREATE:
            obj = self._create(wanted)
            self.diff = {"before": {}, "after": view(obj)}
            return obj, True
        live = live or {}  # only CREATE comes without a live object
        if decision.verb == REFUSE:
            raise self.refusal(decision, live)
        if decision.verb == RECREATE:
            self.check_recreate(live, decision.differing)
            return self._recreate(live, wanted, "its spec differs: %s" % ", ".join(decision.differing)), True
        why = self.remake_reason(live)
        if why:
            warn("%s: made anew: %s" % (self.request.ref, why))
            return self._recreate(live, wanted, why), True
        if decision.verb == KEEP:
            self.diff = {"before": view(live), "after": view(live)}
            return live, False
        patch = decision.patch or {}
        obj = self.patch(patch)
        self.diff = {"before": view(live),
                     "after": patched_view(live, patch.get("metadata"), wanted["spec"] if "spec" in patch else None)}
        return obj, True

    def _recreate(self, live: Mapping[str, Any], wanted: Dict[str, Any], why: str) -> Any:
        obj = recreate(self.client, self.waiter, self.path, live, self._timeout(), self.tracker,
                       lambda: self._create(wanted), why)
        self.diff = {"before": view(live), "after": view(wanted if self.check_mode else obj)}
        return obj

    def _create(self, wanted: Dict[str, Any]) -> Dict[str, Any]:
        """``create``; a 409 AlreadyExists after a retried POST means the first attempt landed."""
        try:
            return self.create(wanted)
        except ApiError as exc:
            if exc.status != 409 or exc.reason != "AlreadyExists" or self.check_mode:
                raise
            live = self.client.get(self.path)
            if live is None or spec_differences(wanted.get("spec"), live.get("spec")):
                raise
            return live

    def ensure_absent(self) -> Dict[str, Any]:
        """Delete (and wait for ``absent_goal`` when asked), unless ``refuse_delete`` refuses."""
        live = self.client.get(self.path)
        if live is None:
            return self.result(False, None)
        users = self.refuse_delete(live)
        changed, obj, diff = delete(self.client, self.waiter, self.path, live, self.request.wait, self._timeout(),
                                    self.absent_goal(users))
        if changed:
            self.diff = diff
        self.after_delete(live)
        return self.deleted(self.result(changed, obj), users)

    def result(self, changed: bool, obj: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """The task result: the object, its phase, the kind's own keys, the run's time, phases and diff."""
        result: Dict[str, Any] = {"changed": changed, self.result_key: self.shown(obj), "phase": cond.phase(obj)}
        result.update(self.described(obj))
        result["duration"] = self.duration()
        result["phases"] = self.tracker.phases
        result["diff"] = self.diff
        return result
