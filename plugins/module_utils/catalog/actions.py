# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Carrying out one planned action of a catalog: the image modules' create, patch, recreate, upload and wait, for
one object, with a failure kept in the object's result row so that the other objects go on."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import Entry, Wanted
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.options import CatalogOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import (
    DELETE, Action, owner_label_of, owner_of,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.reading import LiveIndex
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.report import result_row
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError, TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import (
    align_upload_checksum, create_image, refuse_unknown,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, KEEP, PATCH, RECREATE, REFUSE, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.replace import recreate
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import UploadRunner

WRITES = (CREATE, PATCH, RECREATE, DELETE)
ENSURED = (CREATE, PATCH, RECREATE, KEEP)


class ActionRunner:
    """Runs the plan's actions of one catalog run, each on its own (the run calls ``execute`` from many threads)."""

    def __init__(self, client: Client, options: CatalogOptions, remaining: Callable[[], float],
                 new_namespaces: FrozenSet[str] = frozenset()) -> None:
        self.client = client
        self.options = options
        self.remaining = remaining                 # seconds left of the run's wait_timeout
        self.new_namespaces = new_namespaces       # created by this run (in check mode: would be)

    def as_the_platform_stores(self, wanted: List[Wanted], live: LiveIndex) -> List[Wanted]:
        """Each wanted image as this cluster stores it (upload checksums the API lacks left out), so a re-run
        compares like with like."""
        aligned = []
        for item in wanted:
            obj = live.get((item.kind.kind, item.namespace, item.manifest["metadata"]["name"]))
            manifest, _platform_checks = align_upload_checksum(self.client, item.kind, item.manifest, obj)
            aligned.append(item._replace(manifest=manifest))
        return aligned

    def execute(self, action: Action) -> Dict[str, Any]:
        """Carry out one action; never raises (a failure becomes the row's error)."""
        started = time.monotonic()
        tracker = Tracker(action.kind.ref(action.name, action.namespace), self.options.progress_file)
        obj: Optional[Mapping[str, Any]] = action.live
        changed = action.verb in WRITES
        error = action.message if action.verb == REFUSE else ""
        try:
            path = action.kind.object_path(action.name, action.namespace)
            if self.client.check_mode and action.namespace in self.new_namespaces:
                pass  # a dry-run write into a namespace that does not exist yet would be refused
            elif action.verb == CREATE:
                obj = self._create(action)
            elif action.verb == PATCH:
                try:
                    obj = self.client.patch(path, action.patch)
                except ApiError as exc:
                    refuse_unknown(exc, action.kind, _style(action.wanted.entry))
                    raise
            elif action.verb == RECREATE:
                obj = self._recreate(action, path, tracker)
            elif action.verb == DELETE:
                self.client.delete(path)
                obj = self._wait(action, obj, tracker, "absent")
            if action.verb in ENSURED and action.wanted.entry.upload_path and obj is not None:
                obj, uploaded = self._upload(action, obj, tracker)
                changed = changed or uploaded
            if action.verb in ENSURED:
                obj = self._wait(action, obj, tracker)
        except TaskError as exc:
            error = exc.msg
            obj = exc.details.get("image", obj)
        return result_row(action, obj, changed, error, time.monotonic() - started, tracker.phases,
                          self.client.check_mode)

    def _wait(self, action: Action, obj: Optional[Mapping[str, Any]], tracker: Tracker, goal: str = "ready") -> Any:
        if not self.options.wait or self.client.check_mode:
            tracker.update(obj)
            return obj
        waiter = Waiter(self.client, action.kind, action.name, action.namespace, on_update=tracker.update)
        return waiter.wait(goal, self.remaining(), obj)

    def _recreate(self, action: Action, path: str, tracker: Tracker) -> Optional[Mapping[str, Any]]:
        """The image modules' recreate, for one catalog object."""
        waiter = Waiter(self.client, action.kind, action.name, action.namespace, on_update=tracker.update)
        return recreate(self.client, waiter, path, action.live, self.remaining(), tracker,
                        lambda: self._create(action), action.message or "its listed spec changed")

    def _create(self, action: Action) -> Dict[str, Any]:
        """The image modules' create: fields the cluster lacks are named as the entry spells them. An object of
        that name made since the namespace was listed (a run of the same catalog beside this one) is taken as
        created when this catalog owns it and it is what this run wants."""
        entry = action.wanted.entry
        try:
            obj, _platform_checks = create_image(self.client, action.kind, action.wanted.manifest, _style(entry),
                                                 uploads=bool(entry.upload_path))
        except ApiError as exc:
            if exc.status != 409:
                raise
            live = self.client.get(action.kind.object_path(action.name, action.namespace))
            ours = live is not None and owner_of(live, owner_label_of(action.wanted.manifest)) == self.options.catalog
            ref = action.kind.ref(action.name, action.namespace)
            if not ours or decide(live, action.wanted.manifest, ref, False, "").verb != KEEP:
                raise
            return live
        return obj

    def _upload(self, action: Action, obj: Mapping[str, Any], tracker: Tracker) -> Tuple[Any, bool]:
        """(image, changed): the file sent, or a Ready image checked against it (the upload runner)."""
        if self.client.check_mode and action.verb in (CREATE, RECREATE):
            return obj, True  # the dry-run write stored nothing to upload into
        block = (action.wanted.entry.options.source or {})["upload"]
        opts = UploadOptions.from_source_upload(block, recreate=False, wait=True, wait_timeout=self.remaining())
        meta = obj.get("metadata") or {}
        result = UploadRunner(self.client, action.kind, meta["name"], meta.get("namespace"), opts, tracker).run(obj)
        return result.get("image") or obj, bool(result.get("changed"))


def _style(entry: Entry) -> str:
    """How messages name a field of this entry: its own fields, or the manifest's."""
    return "definition" if entry.source == "manifest" else "entry"
