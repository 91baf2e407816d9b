# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The image runner: ensure one image (and its pull Secret) present or absent, as an ImageRequest asks.

Returns a result dict or raises a TaskError; it never exits the process. The run is the shared one
(objects/runner.py) with what images and disks share (sourced.py); this adds the image's own rules: a Failed image
is made anew, and deleting an image something uses is refused unless ``force``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import InUse
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.request import ImageRequest
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.sourced import SourcedRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import summarize
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.usage import (
    UsageIndex, absent_or_held, absent_unless_held,
)


class ImageRunner(SourcedRunner[ImageRequest]):
    """One run of an ImageRequest (virtual_image, cluster_virtual_image, and the images capture makes)."""

    result_key = "image"

    def summarize(self, obj: Mapping[str, Any]) -> Dict[str, Any]:
        return summarize(obj)

    def remake_reason(self, live: Mapping[str, Any]) -> str:
        """A Failed image holds nothing (nothing can use it) and the platform never imports it again, so a task that
        wants it Ready from its source makes it anew. Uploads have their own rule (``retries``)."""
        if (self.request.upload is not None or cond.phase(live) != "Failed"
                or (live.get("metadata") or {}).get("deletionTimestamp")):
            return ""
        ready = cond.condition(live, "Ready") or {}
        return ("it is Failed (%s) and the platform does not import a Failed image again"
                % (ready.get("message") or ready.get("reason") or "no message"))

    def refuse_delete(self, live: Mapping[str, Any]) -> List[str]:
        """Refuse to delete an image something uses, naming the users, unless ``force``; the users of a forced
        delete."""
        if (live.get("metadata") or {}).get("deletionTimestamp"):
            return []
        users = UsageIndex(self.client).of(live, self.kind).users
        if users and not self.request.force:
            raise InUse("%s is used by %s: deleting it would take it from under them (a virtual machine keeps it "
                        "Terminating, a disk being filled from it fails). Detach it or wait for them first, or set "
                        "force: true to delete it anyway (then pending until no virtual machine uses it); nothing "
                        "was written" % (self.request.ref, ", ".join(users)), used_by=users)
        return users

    def absent_goal(self, users: List[str]) -> Any:
        """Gone, failing at once when a VirtualMachine holds it; after a forced delete, gone or held."""
        return (absent_or_held, "be deleted") if users else absent_unless_held(self.client, self.kind)

    def deleted(self, result: Dict[str, Any], users: List[str]) -> Dict[str, Any]:
        """A forced delete that a virtual machine holds ends with a warning: the platform deletes the image once it
        lets go."""
        if users and result[self.result_key] is not None:
            result["held_by"] = users
            warn("%s is Terminating: the platform deletes it once nothing uses it (%s)"
                 % (self.request.ref, ", ".join(users)))
        return result
