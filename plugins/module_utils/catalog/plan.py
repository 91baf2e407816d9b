# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What to do for each object, decided from one list per namespace before any write.

Pure functions: wanted objects + the live objects of a list -> actions. The
decision for each object is the image modules' (decision.decide), so a catalog
re-run and a ``virtual_image`` re-run agree on "unchanged" and on the lock of a
provisioned spec; ownership and pruning are the catalog's own rules.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.catalog.entries import Wanted
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.labels import CATALOG_LABEL, FANOUT_LABEL
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import Usage
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    CREATE, RECREATE, REFUSE, decide,
)

DELETE = "delete"  # the catalog's own verb: a prune
# A prune not done because something uses the image: the platform would hold the delete (Terminating) until the
# user lets go, so the run leaves it, says who holds it, and a later run prunes it. Writes nothing, fails nothing.
HELD = "held"


class Action(NamedTuple):
    """One step of the plan; ``wanted`` is None for a prune."""

    verb: str
    kind: Kind
    namespace: Optional[str]
    name: str
    wanted: Optional[Wanted]
    live: Optional[Dict[str, Any]]
    patch: Optional[Dict[str, Any]] = None
    message: str = ""


def owner_of(obj: Mapping[str, Any], label: str = CATALOG_LABEL) -> Optional[str]:
    """The catalog that owns an object (its label), or None."""
    return ((obj.get("metadata") or {}).get("labels") or {}).get(label)


def owner_label_of(manifest: Mapping[str, Any]) -> str:
    """The label that says which catalog owns the object: a fan-out hub's, or an image's."""
    return FANOUT_LABEL if FANOUT_LABEL in ((manifest.get("metadata") or {}).get("labels") or {}) else CATALOG_LABEL


def _decide(item: Wanted, live: Optional[Dict[str, Any]], catalog: str, recreate: bool) -> Action:
    name = item.manifest["metadata"]["name"]
    base = (item.kind, item.namespace, name, item)
    if live is None:
        return Action(CREATE, *base, live=None)
    owner_label = owner_label_of(item.manifest)
    if owner_of(live, owner_label) != catalog:
        other = owner_of(live, owner_label)
        return Action(REFUSE, *base, live=live, message=(
            "%s already exists and %s; the catalog changes only images it owns (label %s=%s)"
            % (item.kind.ref(name, item.namespace),
               "belongs to catalog %s" % other if other else "is not owned by a catalog", owner_label, catalog)))
    if (live.get("metadata") or {}).get("deletionTimestamp"):
        # An earlier run was stopped between deleting it (a recreate) and creating it anew: finish that.
        return Action(RECREATE, *base, live=live, message="it was being deleted (an earlier run was stopped "
                      "between deleting and creating it)")
    track = item.entry.track
    decision = decide(live, item.manifest, item.kind.ref(name, item.namespace), recreate and track is None,
                      "recreate (role: image_catalog_recreate: true)")
    if track is not None and decision.verb == REFUSE:
        # Something may use this version: a new build is a new version beside it, never a replacement.
        return Action(REFUSE, *base, live=live, message=(
            "%s is version %s of the track %s and its source changed (differing fields: %s); a track never "
            "replaces a version in place: give the entry a new version, or leave version out so that each build "
            "is named by its digest" % (item.kind.ref(name, item.namespace), track.version, track.name,
                                        ", ".join(decision.differing) or "its content")))
    return Action(decision.verb, *base, live=live, patch=decision.patch, message=decision.message)


def plan(wanted: Iterable[Wanted], live_by_key: Mapping[Tuple[str, Optional[str], str], Dict[str, Any]],
         catalog: str, prune_scope: Iterable[Tuple[Kind, Optional[str], str, Dict[str, Any]]] = (),
         recreate: bool = False, usage: Optional[Callable[[Kind, Mapping[str, Any]], Usage]] = None
         ) -> List[Action]:
    """Actions for every wanted object, then deletions of owned objects no longer wanted.

    ``live_by_key`` maps (kind, namespace, name) to the listed object; ``prune_scope``
    yields the listed objects the catalog owns and may delete (kind, namespace, name, obj);
    ``recreate`` replaces provisioned owned images whose spec changed instead of refusing them;
    ``usage`` says who uses a prune candidate (asked for those only): one in use is HELD, not deleted.
    """
    actions: List[Action] = []
    keys = set()
    for item in wanted:
        name = item.manifest["metadata"]["name"]
        key = (item.kind.kind, item.namespace, name)
        keys.add(key)
        actions.append(_decide(item, live_by_key.get(key), catalog, recreate))
    for kind, namespace, name, obj in prune_scope:
        if (kind.kind, namespace, name) in keys:
            continue  # a prune already being deleted (an earlier run was stopped) is deleted again and waited for
        held = prune_held(obj, usage(kind, obj)) if usage else ""
        actions.append(Action(HELD if held else DELETE, kind, namespace, name, None, obj, message=held))
    return actions


def prune_held(obj: Mapping[str, Any], used: Usage) -> str:
    """Why an owned image no longer wanted is not deleted now ("" when it may be): the same rule as a track's old
    versions (images/usage.py), worded for a prune; one already being deleted says that the platform holds it."""
    if used.in_use:
        return used.holding(obj) or "not pruned: %s; a later run prunes it once nothing uses it" % used.describe()
    if not used.complete:
        return "not pruned: cannot tell whether it is in use (listing disks or machines is forbidden)"
    return ""
