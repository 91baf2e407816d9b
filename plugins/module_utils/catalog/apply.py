# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Applies a whole catalog in one module run.

Why one run: Ansible costs ~0.4 s per task item and importing the kubernetes
client ~0.5 s per module process, so a catalog of N images done as N tasks is
minutes of overhead. Here each namespace is listed once, the plan is computed
from those lists before any write, and the writes and waits of every image run
side by side in threads (one ``Waiter`` each, the image modules' waiter), so N
imports take about as long as the slowest one.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import (
    Entry, Track, Wanted, wanted_objects,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import (
    DELETE, Action, owner_label_of, owner_of, plan,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.report import (
    result_row, table, track_table,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.tracks import (
    TrackStep, newest_patch, numbered, plan_track, step_row, track_of,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import (
    ApiError, TaskError, ValidationError,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, CLUSTER_VIRTUAL_IMAGE, VIRTUAL_IMAGE, Kind,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    CATALOG_LABEL, FANOUT_LABEL, TRACK_LABEL, is_newest,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.fields import (
    align_upload_checksum, create_image, refuse_unknown,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import (
    UsageIndex, absent_unless_held,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, KEEP, PATCH, RECREATE, REFUSE, decide,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.replace import recreate
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import patched_view, view
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import UploadRunner

MAX_WORKERS = 64
WRITES = (CREATE, PATCH, RECREATE, DELETE)
ENSURED = (CREATE, PATCH, RECREATE, KEEP)
NAMESPACES_PATH = "/api/v1/namespaces"
LiveIndex = Dict[Tuple[str, Optional[str], str], Dict[str, Any]]
TrackKey = Tuple[Optional[str], str]   # (namespace, track)


class CatalogRequest(NamedTuple):
    """One run of image_catalog_apply: its kind, its checked options and entries."""

    kind: Kind
    params: Mapping[str, Any]
    entries: List[Entry]


class CatalogFailed(TaskError):
    """Some images failed; the others finished and are in ``details``."""


class CatalogRun:
    """One run of image_catalog_apply: validate, list, plan, write, wait, report."""

    def __init__(self, client: Client, kind: Kind, params: Mapping[str, Any]) -> None:
        self.client = client
        self.kind = kind
        self.params = params
        self.catalog: str = params["catalog"]
        self.started = time.monotonic()
        self.deadline = self.started + float(params.get("wait_timeout") or 0)
        self.new_namespaces: set = set()
        self.members: Dict[TrackKey, List[Dict[str, Any]]] = {}   # every live version of each track
        self.retired: Dict[TrackKey, List[Dict[str, Any]]] = {}   # versions of tracks that left the catalog
        # Many threads share the client's connection pool; its "pool is full" notices are noise.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)

    # -- reading ------------------------------------------------------------------------------
    def _ensure_namespaces(self, namespaces: List[str]) -> List[str]:
        """Namespaces created (or, in check mode, that would be); fail when missing and not allowed."""
        try:
            existing = {item["metadata"]["name"] for item in self.client.list(NAMESPACES_PATH).get("items") or []}
        except ApiError as exc:
            if exc.status == 403:
                return []  # not allowed to list namespaces: the image writes will tell
            raise
        missing = [ns for ns in namespaces if ns not in existing]
        if missing and not self.params.get("create_namespaces"):
            raise ValidationError("namespaces %s do not exist; create them or set create_namespaces "
                                  "(role: image_catalog_create_namespaces: true)" % ", ".join(missing))
        for namespace in missing:
            self.client.create(NAMESPACES_PATH, {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": namespace}})
        return missing

    def _list(self, kind: Kind, namespace: Optional[str], selector: Optional[str] = None) -> List[Dict[str, Any]]:
        items = self.client.list(kind.collection_path(namespace), label_selector=selector).get("items") or []
        for item in items:
            item.setdefault("apiVersion", API_VERSION)
            item.setdefault("kind", kind.kind)
        return items

    def _read(self, namespaces: List[Optional[str]], wanted: List[Wanted]) -> Tuple[LiveIndex, List[Any]]:
        """One list per namespace (plus one for the hubs): the index of live objects and the prune scope."""
        live: LiveIndex = {}
        scope: List[Any] = []
        prune = bool(self.params.get("prune"))
        owned_selector = "%s=%s" % (CATALOG_LABEL, self.catalog)
        tracks = {(item.namespace, item.entry.track.name) for item in wanted if item.entry.track}
        for namespace in namespaces:
            for obj in self._list(self.kind, namespace):
                name = obj["metadata"]["name"]
                live[(self.kind.kind, namespace, name)] = obj
                if owner_of(obj) != self.catalog:
                    continue
                if (namespace, track_of(obj)) in tracks:   # a version of a track: the track's rotation decides
                    self.members.setdefault((namespace, str(track_of(obj))), []).append(obj)
                elif prune and track_of(obj):   # a track that left the catalog: pruned unless in use
                    self.retired.setdefault((namespace, str(track_of(obj))), []).append(obj)
                elif prune:
                    scope.append((self.kind, namespace, name, obj))
        if prune and self.kind.namespaced:
            scope.extend(self._owned_elsewhere(namespaces, owned_selector))
        if self.kind.namespaced and (prune or any(item.hub for item in wanted)):
            selector = None if any(item.hub for item in wanted) else "%s=%s" % (FANOUT_LABEL, self.catalog)
            for obj in self._list(CLUSTER_VIRTUAL_IMAGE, None, selector):
                name = obj["metadata"]["name"]
                live[(CLUSTER_VIRTUAL_IMAGE.kind, None, name)] = obj
                if prune and owner_of(obj, FANOUT_LABEL) == self.catalog:
                    scope.append((CLUSTER_VIRTUAL_IMAGE, None, name, obj))
        return live, scope

    def _owned_elsewhere(self, namespaces: List[Optional[str]], selector: str) -> List[Any]:
        """Owned images in namespaces the catalog no longer lists (skipped without cluster-wide list rights)."""
        try:
            items = self._list(self.kind, None, selector)
        except ApiError as exc:
            if exc.status == 403:
                return []
            raise
        return [(self.kind, obj["metadata"].get("namespace"), obj["metadata"]["name"], obj)
                for obj in items if obj["metadata"].get("namespace") not in namespaces]

    # -- doing ----------------------------------------------------------------------------------
    def _remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def _tracker(self, action: Action) -> Tracker:
        return Tracker(action.kind.ref(action.name, action.namespace), self.params.get("progress_file"))

    def _wait(self, action: Action, obj: Optional[Mapping[str, Any]], tracker: Tracker, goal: str = "ready") -> Any:
        if not self.params.get("wait") or self.client.check_mode:
            tracker.update(obj)
            return obj
        waiter = Waiter(self.client, action.kind, action.name, action.namespace, on_update=tracker.update)
        return waiter.wait(goal, self._remaining(), obj)

    def _execute(self, action: Action) -> Dict[str, Any]:
        """Carry out one action; never raises (a failure becomes the row's error)."""
        started = time.monotonic()
        tracker = self._tracker(action)
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

    def _recreate(self, action: Action, path: str, tracker: Tracker) -> Optional[Mapping[str, Any]]:
        """The image modules' recreate, for one catalog object."""
        waiter = Waiter(self.client, action.kind, action.name, action.namespace, on_update=tracker.update)
        return recreate(self.client, waiter, path, action.live, self._remaining(), tracker,
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
            ours = live is not None and owner_of(live, owner_label_of(action.wanted.manifest)) == self.catalog
            ref = action.kind.ref(action.name, action.namespace)
            if not ours or decide(live, action.wanted.manifest, ref, False, "").verb != KEEP:
                raise
            return live
        return obj

    def _as_the_platform_stores(self, wanted: List[Wanted], live: LiveIndex) -> List[Wanted]:
        """Each wanted image as this cluster stores it (upload checksums the API lacks left out), so a re-run
        compares like with like."""
        aligned = []
        for item in wanted:
            obj = live.get((item.kind.kind, item.namespace, item.manifest["metadata"]["name"]))
            manifest, _platform_checks = align_upload_checksum(self.client, item.kind, item.manifest, obj)
            aligned.append(item._replace(manifest=manifest))
        return aligned

    def _upload(self, action: Action, obj: Mapping[str, Any], tracker: Tracker) -> Tuple[Any, bool]:
        """(image, changed): the file sent, or a Ready image checked against it (the upload runner)."""
        if self.client.check_mode and action.verb in (CREATE, RECREATE):
            return obj, True  # the dry-run write stored nothing to upload into
        block = (action.wanted.entry.options.source or {})["upload"]
        opts = UploadOptions.from_source_upload(block, recreate=False, wait=True, wait_timeout=self._remaining())
        meta = obj.get("metadata") or {}
        result = UploadRunner(self.client, action.kind, meta["name"], meta.get("namespace"), opts, tracker).run(obj)
        return result.get("image") or obj, bool(result.get("changed"))

    def run(self, entries: List[Entry]) -> Dict[str, Any]:
        """The whole catalog (entries from catalog.parse_catalog); raises CatalogFailed when any image failed."""
        namespaces: List[Optional[str]] = list(self.params["namespaces"]) if self.kind.namespaced else [None]
        wanted = wanted_objects(entries, self.kind, namespaces, self.catalog, self.params.get("fanout") or "none")
        created_namespaces = self._ensure_namespaces([ns for ns in namespaces if ns]) if self.kind.namespaced else []
        self.new_namespaces = set(created_namespaces)
        live, scope = self._read(namespaces, wanted)
        wanted = self._numbered(self._as_the_platform_stores(wanted, live), live)
        actions = plan(wanted, live, self.catalog, scope, bool(self.params.get("recreate")))
        hubs = [a for a in actions if a.kind != self.kind]
        rest = [a for a in actions if a.kind == self.kind]
        rows: List[Dict[str, Any]] = []
        if actions:
            workers = min(MAX_WORKERS, len(actions))
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(self._execute, action) for action in hubs + rest]
                rows = [future.result() for future in futures]
        steps = self._plan_tracks(wanted, rows, live)
        track_rows: List[Dict[str, Any]] = []
        if steps:
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(steps))) as pool:
                track_rows = list(pool.map(self._carry_out, steps))
        retired_hubs: List[str] = []
        if any(item.hub and item.entry.track for item in wanted) and not any(row["error"] for row in track_rows):
            retired_hubs = self._retire_hubs(wanted, live)
        diff = _diff(actions)
        _track_diff(steps, diff)
        return self._result(rows, created_namespaces, diff, track_rows, retired_hubs)

    # -- tracks -------------------------------------------------------------------------------------
    def _numbered(self, wanted: List[Wanted], live: LiveIndex) -> List[Wanted]:
        """Today's version of each track with its sequence number (the live one's, or one past the newest)."""
        return [numbered(item, live.get((item.kind.kind, item.namespace, item.manifest["metadata"]["name"])),
                         self.members.get((item.namespace, item.entry.track.name), []))
                if item.entry.track and item.kind == self.kind else item for item in wanted]

    def _plan_tracks(self, wanted: List[Wanted], rows: List[Dict[str, Any]], live: LiveIndex) -> List[TrackStep]:
        """One step per track and namespace, from how today's version came out of this run."""
        by_ref = {row["ref"]: row for row in rows}
        usage = UsageIndex(self.client)
        steps = []
        for item in wanted:
            track = item.entry.track
            if track is None or item.kind != self.kind:
                continue
            ref = item.kind.ref(track.image_name, item.namespace)
            row = by_ref[ref]
            would_create = self.client.check_mode and row["action"] in (CREATE, RECREATE)
            ready = not row["error"] and (row["phase"] == "Ready" or would_create)
            reason = row["error"] or "its phase is %s" % (row["phase"] or "not known yet")
            # As this run left it: made anew (or to be, in check mode) it has no newest label yet.
            current = None if row["action"] in (CREATE, RECREATE) else live.get(
                (item.kind.kind, item.namespace, track.image_name))
            step = plan_track(track, item.kind, item.namespace, current, ready,
                              self.members.get((item.namespace, track.name), []),
                              lambda obj: usage.of(obj, self.kind), reason)
            steps.append(step._replace(entry=item.entry.label))
        for (namespace, name), members in sorted(self.retired.items()):
            steps.append(plan_track(Track(name, 0, ""), self.kind, namespace, None, True, members,
                                    lambda obj: usage.of(obj, self.kind)))
        return steps

    def _carry_out(self, step: TrackStep) -> Dict[str, Any]:
        """Move the newest label, then delete versions oldest first; never raises (a failure is the row's error)."""
        error = ""
        try:
            if step.add_label and not (self.client.check_mode and step.current is None):
                self.client.patch(step.kind.object_path(step.newest, step.namespace),
                                  newest_patch(True, step.renumber))
            for name in self._others_labelled(step):
                self.client.patch(step.kind.object_path(name, step.namespace), newest_patch(False))
            for member in step.delete:
                name = member["metadata"]["name"]
                self.client.delete(step.kind.object_path(name, step.namespace))
                if self.params.get("wait") and not self.client.check_mode:
                    # a VM attaching it since the use check holds it: named at once, not waited out
                    Waiter(self.client, step.kind, name, step.namespace).wait(
                        absent_unless_held(self.client, step.kind), self._remaining(), member)
        except TaskError as exc:
            where = step.entry + ": " if step.entry else ""
            error = "%strack %s: %s" % (where, step.kind.ref(step.track.name, step.namespace), exc.msg)
        return step_row(step, error, self.client.check_mode)

    def _others_labelled(self, step: TrackStep) -> List[str]:
        """The versions to take the newest label from: the plan's, and, when the label moves, any other version
        labelled since the namespace was listed (a run beside this one): listed again, by label."""
        names = [member["metadata"]["name"] for member in step.remove_label]
        if step.add_label and not self.client.check_mode:
            selector = "%s=%s,%s=%s" % (CATALOG_LABEL, self.catalog, TRACK_LABEL, step.track.name)
            deleted = {member["metadata"]["name"] for member in step.delete}
            names += [obj["metadata"]["name"] for obj in self._list(step.kind, step.namespace, selector)
                      if is_newest(obj["metadata"].get("labels")) and obj["metadata"]["name"] not in
                      set(names) | deleted | {step.newest}]
        return names

    def _retire_hubs(self, wanted: List[Wanted], live: LiveIndex) -> List[str]:
        """Fan-out hubs made for versions of this run's tracks that no version wants any more, deleted unless
        something is being filled from them (each build of a track gets its own hub: they would pile up)."""
        tracks = {item.entry.track.name for item in wanted if item.entry.track}
        wanted_hubs = {item.hub for item in wanted if item.hub}
        candidates = [obj for (kind, _ns, name), obj in sorted(live.items()) if kind == CLUSTER_VIRTUAL_IMAGE.kind
                      and owner_of(obj, FANOUT_LABEL) == self.catalog and track_of(obj) in tracks
                      and name not in wanted_hubs and not obj["metadata"].get("deletionTimestamp")]
        usage = UsageIndex(self.client)
        retired = []
        for hub in candidates:
            used = usage.of(hub, CLUSTER_VIRTUAL_IMAGE)
            if used.in_use or not used.complete:
                continue
            name = hub["metadata"]["name"]
            self.client.delete(CLUSTER_VIRTUAL_IMAGE.object_path(name, None))
            retired.append(name)
        return retired

    def _result(self, rows: List[Dict[str, Any]], created_namespaces: List[str], diff: Dict[str, Any],
                track_rows: List[Dict[str, Any]], retired_hubs: List[str]) -> Dict[str, Any]:
        images = [row for row in rows if row["action"] != "delete" and not row["hub"]]
        hubs = [row for row in rows if row["hub"]]
        pruned = [row for row in rows if row["action"] == "delete"]
        failed = [row for row in rows if row["error"]]
        track_failures = [row["error"] for row in track_rows if row["error"]]
        result: Dict[str, Any] = {
            "changed": bool(created_namespaces or retired_hubs) or any(row["changed"] for row in rows) or any(
                row["label"] in ("moved", "set", "would move", "would set") or row["deleted"] for row in track_rows),
            "catalog": self.catalog,
            "images": images,
            "fanout": hubs,
            "pruned": pruned,
            "created_namespaces": created_namespaces,
            "tracks": track_rows,
            "retired_hubs": retired_hubs,
            "table": table(hubs + images + pruned) + track_table(track_rows),
            "duration": round(time.monotonic() - self.started, 3),
            "failed_images": [_failure(row) for row in failed] + track_failures,
            "diff": diff,
        }
        if failed or track_failures:
            raise CatalogFailed("%s failed: %s" % (" and ".join(part for part in (
                "%d of %d catalog objects" % (len(failed), len(rows)) if failed else "",
                "%d of %d tracks" % (len(track_failures), len(track_rows)) if track_failures else "") if part),
                "; ".join(result["failed_images"])), **result)
        return result


def _diff(actions: List[Action]) -> Dict[str, Any]:
    """Before and after of every object the plan writes, keyed by reference (what ``--diff`` shows)."""
    before: Dict[str, Any] = {}
    after: Dict[str, Any] = {}
    for action in actions:
        if action.verb not in WRITES:
            continue
        ref = action.kind.ref(action.name, action.namespace)
        if action.live is not None:
            before[ref] = view(action.live)
        if action.verb == PATCH:
            spec = (action.patch or {}).get("spec") and action.wanted.manifest.get("spec")
            after[ref] = patched_view(action.live, (action.patch or {}).get("metadata"), spec)
        elif action.verb in (CREATE, RECREATE):
            after[ref] = view(action.wanted.manifest)
    return {"before": before, "after": after}


def _track_diff(steps: List[TrackStep], diff: Dict[str, Any]) -> None:
    """The tracks' writes in ``--diff``: the newest label moving, old versions deleted."""
    before, after = diff["before"], diff["after"]
    for step in steps:
        newest_ref = step.kind.ref(step.newest, step.namespace)
        if step.add_label and newest_ref in after:          # created (or changed) in this run
            after[newest_ref] = patched_view(after[newest_ref], newest_patch(True)["metadata"])
        elif step.add_label and step.current is not None:
            before[newest_ref] = view(step.current)
            after[newest_ref] = patched_view(step.current, newest_patch(True)["metadata"])
        for member in step.remove_label:
            ref = step.kind.ref(member["metadata"]["name"], step.namespace)
            before[ref] = view(member)
            after[ref] = patched_view(member, newest_patch(False)["metadata"])
        for member in step.delete:
            before[step.kind.ref(member["metadata"]["name"], step.namespace)] = view(member)


def _style(entry: Entry) -> str:
    """How messages name a field of this entry: its own fields, or the manifest's."""
    return "definition" if entry.source == "manifest" else "entry"


def kind_of(cluster: bool) -> Kind:
    """The kind a catalog manages."""
    return CLUSTER_VIRTUAL_IMAGE if cluster else VIRTUAL_IMAGE


def _failure(row: Mapping[str, Any]) -> str:
    """``<ref> [<entry>]: <message>``, without repeating the ref the message may start with."""
    message = row["error"]
    if message.startswith(row["ref"] + ": "):
        message = message[len(row["ref"]) + 2:]
    where = " [%s]" % row["entry"] if row.get("entry") else ""
    return "%s%s: %s" % (row["ref"], where, message)
