# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one decision every writer of an image makes, before any write: from (live, wanted) to an action.

The image modules, the catalog plan and the upload runner all ask this function, so they can never disagree
on what is "unchanged", on when the platform's lock on a provisioned spec applies, or on how the refusal reads.
Pure: no I/O, so tests can cover every branch with plain dicts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.compare import (
    merge_patch, metadata_patch, spec_differences,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import PROVISIONED_PHASES

CREATE, PATCH, KEEP, REFUSE, RECREATE = "create", "patch", "keep", "refuse", "recreate"


class Decision(NamedTuple):
    """What to do with one object; ``patch`` for PATCH, ``message`` for REFUSE, ``differing`` for both."""

    verb: str
    patch: Optional[Dict[str, Any]] = None
    differing: List[str] = []
    message: str = ""


def decide(live: Optional[Mapping[str, Any]], wanted: Mapping[str, Any], ref: str, recreate: bool,
           how_to_recreate: str, content_differences: Sequence[str] = ()) -> Decision:
    """Create when absent; patch what differs before provisioning; once provisioned (the platform then
    rejects spec changes) recreate when allowed, else refuse naming the differing fields and ``how_to_recreate``.

    ``content_differences``: how the data of a provisioned image differs from what is wanted (an upload's file);
    they count like spec differences but only once the image is provisioned (before that it holds no data).
    """
    if live is None:
        return Decision(CREATE)
    differing = spec_differences(wanted.get("spec"), live.get("spec"))
    meta = metadata_patch(wanted.get("metadata") or {}, live.get("metadata") or {})
    provisioned = cond.phase(live) in PROVISIONED_PHASES
    locked = differing + (list(content_differences) if provisioned else [])
    if locked and provisioned:
        if recreate:
            return Decision(RECREATE, differing=locked)
        return Decision(REFUSE, differing=locked, message=locked_message(
            ref, live, differing, list(content_differences), how_to_recreate))
    if not differing and not meta:
        return Decision(KEEP)
    patch: Dict[str, Any] = {}
    if meta:
        patch["metadata"] = meta
    if differing:
        patch["spec"] = merge_patch(live.get("spec") or {}, wanted.get("spec") or {})
    return Decision(PATCH, patch=patch, differing=differing)


def locked_message(ref: str, live: Mapping[str, Any], differing: List[str], content: List[str],
                   how_to_recreate: str) -> str:
    """Why a provisioned image cannot be changed in place, and the option that replaces it instead."""
    if differing:
        return ("%s is already provisioned (phase %s) and the platform rejects changes to its spec; differing "
                "fields: %s. Set %s to delete it and create it anew."
                % (ref, cond.phase(live), ", ".join(differing), how_to_recreate))
    return ("%s is already provisioned (phase %s) with different content: %s. Uploads cannot replace it; "
            "set %s to delete it and upload the file anew." % (ref, cond.phase(live), "; ".join(content),
                                                               how_to_recreate))
