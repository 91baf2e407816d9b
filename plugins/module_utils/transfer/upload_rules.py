# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What an upload reads off the object's status: where it may send, when it may act, and what differs per kind.

Kept apart from the runner so that the kinds' modules (disks/rules.py) and the waiter goals share one reading of
the phases and of ``status.imageUploadURLs``.
"""

from __future__ import annotations

from typing import Any, Callable, Collection, Dict, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import DONE, FAIL, WAIT, Verdict
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    PROVISIONED_PHASES, TERMINAL_FAILURE_PHASES,
)

SENDABLE_PHASES = ("WaitForUserUpload", "Provisioning")


def _always(obj: Mapping[str, Any]) -> str:
    return ""


class UploadRules(NamedTuple):
    """What the runner must know of the kind it sends into; the defaults are the images'.

    ``holds_data``: phases in which the object holds what was uploaded (its record is then compared with the file);
    ``ready``: the waiter goal once the file is sent; ``why_not_recreate``: "" when the object may be deleted and
    made anew (a different file, a Failed upload), else why not (a disk a VM uses)."""

    holds_data: Tuple[str, ...] = PROVISIONED_PHASES
    ready: str = "ready"
    why_not_recreate: Callable[[Mapping[str, Any]], str] = _always
    recreate_loses: str = ""     # what advice to recreate adds (see SpecLock)


IMAGE_UPLOAD = UploadRules()


def waiting_for_upload(obj: Optional[Mapping[str, Any]], ref: str) -> Mapping[str, Any]:
    """``obj`` when it exists and takes an upload (dataSource type Upload); else why there is nothing to upload to."""
    if obj is None:
        raise ObjectFailed("%s does not exist: create it with dataSource type Upload first "
                           "(virtual_image with source.upload creates and uploads in one task)" % ref)
    ds_type = ((obj.get("spec") or {}).get("dataSource") or {}).get("type")
    if ds_type != "Upload":
        raise ObjectFailed("%s has dataSource type %s, not Upload: there is nothing to upload to"
                           % (ref, ds_type), image=obj)
    return obj


def upload_urls(obj: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """status.imageUploadURLs (only the non-empty ones)."""
    urls = ((obj or {}).get("status") or {}).get("imageUploadURLs") or {}
    return {key: value for key, value in urls.items() if value}


def can_send(obj: Mapping[str, Any], spent: Collection[str]) -> bool:
    """The image publishes upload URLs we have not sent to yet (``spent``: URLs already used).

    Provisioning counts too: another client may be uploading; the server then answers
    503 and the send is retried with backoff.
    """
    urls = upload_urls(obj)
    return (cond.phase(obj) in SENDABLE_PHASES and bool(urls) and cond.status_current(obj)
            and not set(urls.values()) & set(spent))


def actionable(spent: Collection[str], holds_data: Tuple[str, ...] = PROVISIONED_PHASES
               ) -> Tuple[Callable[[Optional[Mapping[str, Any]]], Verdict], str]:
    """A waiter goal: the object reached a phase the upload can act on.

    ``spent``: URLs already sent to; a (stale) WaitForUserUpload showing them does not count.
    """
    def predicate(obj: Optional[Mapping[str, Any]]) -> Verdict:
        if obj is None:
            return Verdict(FAIL, "it was deleted while waiting to upload")
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return Verdict(FAIL, "it is being deleted (phase %s)" % cond.phase(obj))
        phase = cond.phase(obj)
        if cond.status_current(obj) and phase in holds_data + TERMINAL_FAILURE_PHASES:
            return Verdict(DONE)
        if can_send(obj, spent):
            return Verdict(DONE)
        blocker = cond.current_condition(obj, "DatasourceReady")
        if phase == "Pending" and blocker and blocker.get("status") == "False" and blocker.get("reason"):
            return Verdict(WAIT, "blocked: " + cond.describe_condition(blocker))
        return Verdict(WAIT)
    return predicate, "be ready to receive an upload"
