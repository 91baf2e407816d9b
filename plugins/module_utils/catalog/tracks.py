# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Tracks: an entry with ``keep: N`` keeps the newest N versions of an image whose source changes over time.

Each version is its own image, ``<name>-<version>``, labelled with its track and version and numbered in the order
the catalog created them (SEQUENCE_ANNOTATION: timestamps of one second cannot order versions made in one minute).
Once today's version is Ready it takes NEWEST_LABEL from the others, and versions past the newest N are deleted,
oldest first, unless something uses them (images/usage.py says what counts). Today's version failing, or not
Ready yet, moves no label and deletes nothing; failed older versions do not count among the N kept.

Pure: live objects and usage in, a TrackStep out; the catalog run carries the steps out after the images' own
actions and reports them. Everything is decided from state, so a run killed half-way is finished by the next.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import Track, Wanted
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import (
    NEWEST_LABEL, NEWEST_VALUE, SEQUENCE_ANNOTATION, TRACK_LABEL, is_newest, track_sequence,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import Usage
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.views import patched_view, view


class Kept(NamedTuple):
    name: str
    reason: str
    used_by: List[str]


class TrackStep(NamedTuple):
    """What one run does to one track in one namespace (or cluster-wide), decided before any of it is done."""

    track: Track
    kind: Kind
    namespace: Optional[str]
    newest: str                           # today's version (its image name)
    ready: bool                           # today's version is Ready (or, in check mode, would be created)
    add_label: bool                       # today's version takes NEWEST_LABEL
    remove_label: List[Dict[str, Any]]    # versions that lose it (and are not deleted)
    delete: List[Dict[str, Any]]          # versions deleted, oldest first
    kept: List[Kept]                      # older versions kept, and why
    current: Optional[Mapping[str, Any]] = None   # today's version as listed (None: made in this run)
    note: str = ""
    entry: str = ""                       # how messages name the entry: "images[2] (noble)"
    renumber: Optional[int] = None        # today's version, older than others (a rollback), takes this sequence
    held: List[Kept] = []                 # versions being deleted that the platform holds while something uses them

    @property
    def writes(self) -> bool:
        return bool(self.add_label or self.remove_label or self.delete)


def labels_of(obj: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    return dict(((obj or {}).get("metadata") or {}).get("labels") or {})


def track_of(obj: Mapping[str, Any]) -> Optional[str]:
    return labels_of(obj).get(TRACK_LABEL)


def _age_key(obj: Mapping[str, Any]) -> tuple:
    meta = obj.get("metadata") or {}
    return (track_sequence(obj), meta.get("creationTimestamp") or "", meta.get("name") or "")


def numbered(item: Wanted, live: Optional[Mapping[str, Any]], members: List[Mapping[str, Any]]) -> Wanted:
    """``item`` (today's version of a track) with its sequence: the live one's, else one past the newest member."""
    number = track_sequence(live)
    if number < 0:
        number = max([track_sequence(member) for member in members] + [0]) + 1
    manifest = dict(item.manifest)
    metadata = dict(manifest["metadata"])
    metadata["annotations"] = dict(metadata.get("annotations") or {}, **{SEQUENCE_ANNOTATION: str(number)})
    manifest["metadata"] = metadata
    return item._replace(manifest=manifest)


def plan_track(track: Track, kind: Kind, namespace: Optional[str], current: Optional[Mapping[str, Any]],
               ready: bool, members: List[Dict[str, Any]], usage: Callable[[Mapping[str, Any]], Usage],
               not_ready_reason: str = "") -> TrackStep:
    """The step for one track: ``current`` is today's version as it stands after this run's own action on it
    (None when check mode would create it), ``ready`` whether it counts as Ready, ``members`` every live version.

    A retired track (``keep`` 0: its entry left a catalog that prunes) has no today's version: every version not
    in use is deleted."""
    retired = track.keep == 0
    newest = "" if retired else track.image_name
    others = sorted((m for m in members if m["metadata"]["name"] != newest), key=_age_key, reverse=True)
    if not ready:
        why = "%s is not Ready%s" % (newest, ": " + not_ready_reason if not_ready_reason else "")
        kept = [Kept(m["metadata"]["name"], why, []) for m in others if not m["metadata"].get("deletionTimestamp")]
        held = [k for k in (_held(m, usage(m)) for m in others if m["metadata"].get("deletionTimestamp")) if k]
        return TrackStep(track, kind, namespace, newest, False, False, [], [], kept, current,
                         note="the newest label stays, nothing is deleted until %s is Ready" % newest, held=held)
    good = [m for m in others if cond.phase(m) != "Failed" and not m["metadata"].get("deletionTimestamp")]
    retained = good[:max(track.keep - 1, 0)]
    kept = [Kept(m["metadata"]["name"], "one of the newest %d" % track.keep, []) for m in retained]
    delete: List[Dict[str, Any]] = []
    held: List[Kept] = []
    for member in reversed(others):          # oldest first
        if any(member is r for r in retained):
            continue
        used = usage(member)
        being_deleted = _held(member, used)
        if being_deleted:
            held.append(being_deleted)
        elif used.in_use:
            kept.append(Kept(member["metadata"]["name"], used.describe(), _users(used)))
        elif not used.complete:
            kept.append(Kept(member["metadata"]["name"], "cannot tell whether it is in use (listing disks or "
                             "machines is forbidden)", []))
        else:
            delete.append(member)
    deleted = {m["metadata"]["name"] for m in delete}
    if retired:
        return TrackStep(track, kind, namespace, newest, True, False, [], delete, sorted(kept, key=lambda k: k.name),
                         note="its entry left the catalog", held=held)
    remove = [m for m in others if is_newest(labels_of(m)) and m["metadata"]["name"] not in deleted]
    add = not is_newest(labels_of(current))
    later = max([track_sequence(m) for m in others] + [-1])
    renumber = later + 1 if add and current is not None and track_sequence(current) < later else None
    return TrackStep(track, kind, namespace, newest, True, add, remove, delete, sorted(kept, key=lambda k: k.name),
                     current, renumber=renumber, held=held)


def _users(used: Usage) -> List[str]:
    return used.users + ["namespace %s" % ns for ns in used.namespaces]


def _held(member: Mapping[str, Any], used: Usage) -> Optional[Kept]:
    """A version deleted already (by hand, with force, or by an earlier run) that something still uses: not kept,
    only not gone yet, because the platform holds the delete until the user lets go."""
    reason = used.holding(member)
    return Kept(member["metadata"]["name"], reason, _users(used)) if reason else None


def newest_patch(take: bool, sequence: Optional[int] = None) -> Dict[str, Any]:
    """The merge patch that gives (or takes away) the newest label; a version taken back (``sequence``) is numbered
    after the others, so that rotation counts it as the newest."""
    patch: Dict[str, Any] = {"metadata": {"labels": {NEWEST_LABEL: NEWEST_VALUE if take else None}}}
    if sequence is not None:
        patch["metadata"]["annotations"] = {SEQUENCE_ANNOTATION: str(sequence)}
    return patch


def step_row(step: TrackStep, error: str, check_mode: bool) -> Dict[str, Any]:
    """What happened to one track, flat for templates and the table."""
    previous = [m["metadata"]["name"] for m in step.remove_label + step.delete if is_newest(labels_of(m))]
    if not step.newest:
        label = "retired"
    elif not step.ready:
        label = "waiting"
    elif step.add_label or step.remove_label:
        label = ("would move" if check_mode else "moved") if previous else ("would set" if check_mode else "set")
    else:
        label = "unchanged"
    return {
        "track": step.track.name,
        "kind": step.kind.kind,
        "namespace": step.namespace,
        "keep": step.track.keep,
        "entry": step.entry or None,
        "newest": step.newest or None,
        "version": step.track.version,
        "newest_ready": step.ready,
        "label": label,
        "previous_newest": previous[0] if previous else None,
        "deleted": [m["metadata"]["name"] for m in step.delete],
        "kept": [k._asdict() for k in step.kept],
        "held": [k._asdict() for k in step.held],
        "note": step.note,
        "error": error,
    }


def track_diff(steps: List[TrackStep], diff: Dict[str, Any]) -> None:
    """The tracks' writes added to the run's ``--diff``: the newest label moving, old versions deleted."""
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
