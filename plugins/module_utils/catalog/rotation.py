# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Carrying out the tracks of one catalog run, after the images' own actions: number today's versions, plan
each track's step from how its version came out (tracks.py decides), move the newest label, delete old versions,
retire fan-out hubs no version wants."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import Track, Wanted
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.options import CatalogOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.parallel import side_by_side
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.plan import owner_of
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.reading import LiveState, list_objects
from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.tracks import (
    TrackStep, newest_patch, numbered, plan_track, step_row, track_of,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import CLUSTER_VIRTUAL_IMAGE
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    CATALOG_LABEL, FANOUT_LABEL, TRACK_LABEL, is_newest,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import (
    UsageIndex, absent_unless_held,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import CREATE, RECREATE


class TrackRotation:
    """The tracks of one catalog run, from the state it listed."""

    def __init__(self, client: Client, options: CatalogOptions, state: LiveState,
                 remaining: Callable[[], float]) -> None:
        self.client = client
        self.options = options
        self.state = state
        self.remaining = remaining      # seconds left of the run's wait_timeout

    def numbered(self, wanted: List[Wanted]) -> List[Wanted]:
        """Today's version of each track with its sequence number (the live one's, or one past the newest)."""
        live = self.state.live
        return [numbered(item, live.get((item.kind.kind, item.namespace, item.manifest["metadata"]["name"])),
                         self.state.members.get((item.namespace, item.entry.track.name), []))
                if item.entry.track and item.kind == self.options.kind else item for item in wanted]

    def rotate(self, wanted: List[Wanted],
               rows: List[Dict[str, Any]]) -> Tuple[List[TrackStep], List[Dict[str, Any]], List[str]]:
        """(steps, their rows, hubs retired): every track's step carried out side by side; then, when every
        track went well, the hubs its old versions were copied from."""
        steps = self.plan(wanted, rows)
        track_rows = side_by_side(self.carry_out, steps)
        retired_hubs: List[str] = []
        if any(item.hub and item.entry.track for item in wanted) and not any(row["error"] for row in track_rows):
            retired_hubs = self.retire_hubs(wanted)
        return steps, track_rows, retired_hubs

    def plan(self, wanted: List[Wanted], rows: List[Dict[str, Any]]) -> List[TrackStep]:
        """One step per track and namespace, from how today's version came out of this run."""
        kind = self.options.kind
        by_ref = {row["ref"]: row for row in rows}
        usage = UsageIndex(self.client)
        steps = []
        for item in wanted:
            track = item.entry.track
            if track is None or item.kind != kind:
                continue
            ref = item.kind.ref(track.image_name, item.namespace)
            row = by_ref[ref]
            would_create = self.client.check_mode and row["action"] in (CREATE, RECREATE)
            ready = not row["error"] and (row["phase"] == "Ready" or would_create)
            reason = row["error"] or "its phase is %s" % (row["phase"] or "not known yet")
            # As this run left it: made anew (or to be, in check mode) it has no newest label yet.
            current = None if row["action"] in (CREATE, RECREATE) else self.state.live.get(
                (item.kind.kind, item.namespace, track.image_name))
            step = plan_track(track, item.kind, item.namespace, current, ready,
                              self.state.members.get((item.namespace, track.name), []),
                              lambda obj: usage.of(obj, kind), reason)
            steps.append(step._replace(entry=item.entry.label))
        for (namespace, name), members in sorted(self.state.retired.items()):
            steps.append(plan_track(Track(name, 0, ""), kind, namespace, None, True, members,
                                    lambda obj: usage.of(obj, kind)))
        return steps

    def carry_out(self, step: TrackStep) -> Dict[str, Any]:
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
                if self.options.wait and not self.client.check_mode:
                    # a VM attaching it since the use check holds it: named at once, not waited out
                    Waiter(self.client, step.kind, name, step.namespace).wait(
                        absent_unless_held(self.client, step.kind), self.remaining(), member)
        except TaskError as exc:
            where = step.entry + ": " if step.entry else ""
            error = "%strack %s: %s" % (where, step.kind.ref(step.track.name, step.namespace), exc.msg)
        return step_row(step, error, self.client.check_mode)

    def _others_labelled(self, step: TrackStep) -> List[str]:
        """The versions to take the newest label from: the plan's, and, when the label moves, any other version
        labelled since the namespace was listed (a run beside this one): listed again, by label."""
        names = [member["metadata"]["name"] for member in step.remove_label]
        if step.add_label and not self.client.check_mode:
            selector = "%s=%s,%s=%s" % (CATALOG_LABEL, self.options.catalog, TRACK_LABEL, step.track.name)
            deleted = {member["metadata"]["name"] for member in step.delete}
            names += [obj["metadata"]["name"] for obj in list_objects(self.client, step.kind, step.namespace, selector)
                      if is_newest(obj["metadata"].get("labels")) and obj["metadata"]["name"] not in
                      set(names) | deleted | {step.newest}]
        return names

    def retire_hubs(self, wanted: List[Wanted]) -> List[str]:
        """Fan-out hubs made for versions of this run's tracks that no version wants any more, deleted unless
        something is being filled from them (each build of a track gets its own hub: they would pile up)."""
        tracks = {item.entry.track.name for item in wanted if item.entry.track}
        wanted_hubs = {item.hub for item in wanted if item.hub}
        candidates = [obj for (kind, _ns, name), obj in sorted(self.state.live.items())
                      if kind == CLUSTER_VIRTUAL_IMAGE.kind and owner_of(obj, FANOUT_LABEL) == self.options.catalog
                      and track_of(obj) in tracks and name not in wanted_hubs
                      and not obj["metadata"].get("deletionTimestamp")]
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
