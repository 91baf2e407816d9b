# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one decision every writer of an image or a disk makes, before any write: from (live, wanted) to an action.

The image and disk modules, the catalog plan and the upload runner all ask this function, so they can never
disagree on what is "unchanged", on when the platform's lock on a provisioned spec applies, or on how the refusal
reads. A kind says when its spec locks and which fields still change in place afterwards (a disk's size grows) with
a SpecLock. Pure: no I/O, so tests can cover every branch with plain dicts.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.compare import (
    merge_patch, metadata_patch, spec_differences,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import PROVISIONED_PHASES

CREATE, PATCH, KEEP, REFUSE, RECREATE = "create", "patch", "keep", "refuse", "recreate"
# What an in-place rule says of a field's values (the live object, the live value, the wanted value): the same
# value, a change the platform makes in place; anything else is why the change is refused. The live object is
# there for what the platform compares with besides the spec (a disk's capacity in its status).
SAME, IN_PLACE = "same", "in place"
InPlaceRule = Callable[[Mapping[str, Any], Any, Any], str]


class SpecLock(NamedTuple):
    """When a kind's spec locks (the phases after provisioning) and the fields that still change in place then,
    each with its rule (dotted path -> rule). Images: nothing changes once provisioned."""

    phases: Tuple[str, ...] = PROVISIONED_PHASES
    in_place: Mapping[str, InPlaceRule] = {}
    # What advice to recreate must add (a disk's data is lost with it; an image is made again from its source).
    recreate_loses: str = ""


IMAGE_LOCK = SpecLock()


class Decision(NamedTuple):
    """What to do with one object; ``patch`` for PATCH, ``message`` for REFUSE, ``differing`` for both."""

    verb: str
    patch: Optional[Dict[str, Any]] = None
    differing: List[str] = []
    message: str = ""


def _value(obj: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``spec.persistentVolumeClaim.size``), None when absent."""
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _without(node: Any, paths: Sequence[str]) -> Any:
    """A copy of a mapping without the dotted ``paths`` (relative to it); empty mappings left behind are None."""
    if not isinstance(node, Mapping):
        return node
    out = {}
    for key, value in node.items():
        inner = [p.split(".", 1)[1] for p in paths if p.split(".", 1)[0] == key and "." in p]
        if key in paths:
            continue
        out[key] = _without(value, inner) if inner else value
        if out[key] is None and value is not None:
            del out[key]
    return out or None


def spec_changes(live: Mapping[str, Any], wanted: Mapping[str, Any], in_place: Sequence[str]) -> List[str]:
    """The spec paths that differ, each in-place path named on its own even where its parent is absent on one
    side (a disk made without a size has no ``spec.persistentVolumeClaim`` at all: giving it a size is a change
    of ``spec.persistentVolumeClaim.size``, which grows in place, not of the whole parent, which is locked)."""
    changes: List[str] = []
    for path in spec_differences(wanted.get("spec"), live.get("spec")):
        inner = [p for p in in_place if p.startswith(path + ".")]
        if not inner:
            changes.append(path)
            continue
        relative = [p[len(path) + 1:] for p in inner]
        rest_wanted, rest_live = _without(_value(wanted, path), relative), _without(_value(live, path), relative)
        changes.extend(spec_differences(rest_wanted, rest_live, path))
        changes.extend(p for p in inner if _value(wanted, p) != _value(live, p))
    return changes


def decide(live: Optional[Mapping[str, Any]], wanted: Mapping[str, Any], ref: str, recreate: bool,
           how_to_recreate: str, content_differences: Sequence[str] = (), lock: SpecLock = IMAGE_LOCK) -> Decision:
    """Create when absent; patch what differs before provisioning; once provisioned (the platform then
    rejects spec changes) patch the fields ``lock`` allows in place, recreate when allowed, else refuse naming the
    differing fields and ``how_to_recreate``.

    ``content_differences``: how the data of a provisioned image differs from what is wanted (an upload's file);
    they count like spec differences but only once the image is provisioned (before that it holds no data).
    An in-place field whose rule refuses the change (a smaller disk) is refused even with ``recreate``, unless a
    locked field differs too: recreating then makes a new object with every wanted value.
    """
    if live is None:
        return Decision(CREATE)
    rules = lock.in_place
    changes = spec_changes(live, wanted, list(rules))
    verdicts = {path: rules[path](live, _value(live, path), _value(wanted, path)) for path in changes if path in rules}
    differing = [path for path in changes if verdicts.get(path) != SAME]
    meta = metadata_patch(wanted.get("metadata") or {}, live.get("metadata") or {})
    if cond.phase(live) in lock.phases:
        spec_locked = [path for path in differing if path not in rules]
        locked = spec_locked + list(content_differences)
        refused = [why for why in verdicts.values() if why not in (SAME, IN_PLACE)]
        if locked and recreate:
            return Decision(RECREATE, differing=locked)
        if refused:
            return Decision(REFUSE, differing=differing, message="%s: %s" % (ref, "; ".join(refused)))
        if locked:
            return Decision(REFUSE, differing=locked, message=locked_message(
                ref, live, spec_locked, list(content_differences), how_to_recreate, lock.recreate_loses))
    if not differing and not meta:
        return Decision(KEEP)
    patch: Dict[str, Any] = {}
    if meta:
        patch["metadata"] = meta
    if differing:
        patch["spec"] = merge_patch(live.get("spec") or {}, wanted.get("spec") or {})
    return Decision(PATCH, patch=patch, differing=differing)


def locked_message(ref: str, live: Mapping[str, Any], differing: List[str], content: List[str],
                   how_to_recreate: str, loses: str = "") -> str:
    """Why a provisioned object cannot be changed in place, and the option that replaces it instead (saying what
    is lost with it, where something is)."""
    lost = " (%s)" % loses if loses else ""
    if differing:
        return ("%s is already provisioned (phase %s) and the platform rejects changes to its spec; differing "
                "fields: %s. Set %s to delete it and create it anew%s."
                % (ref, cond.phase(live), ", ".join(differing), how_to_recreate, lost))
    return ("%s is already provisioned (phase %s) with different content: %s. Uploads cannot replace it; "
            "set %s to delete it and upload the file anew%s." % (ref, cond.phase(live), "; ".join(content),
                                                                 how_to_recreate, lost))
