# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What uses an image: the one rule that says whether an image may be deleted by a rotation, and what info reports.

An image is in use when
- a VirtualDisk is being filled from it (``spec.dataSource.objectRef`` names it and the disk is not filled yet:
  pending, provisioning, waiting for its first consumer, or failed and to be retried); a filled disk holds its own
  copy and no longer needs the image (the platform agrees: it never counts disks);
- an image is being copied from it the same way;
- a VirtualMachine has it attached, as a CD-ROM or a block device (``spec.blockDeviceRefs``, or
  ``status.blockDeviceRefs``, where hot-plugged images show), or a VirtualMachineBlockDeviceAttachment asks to
  hot-plug it;
- for a ClusterVirtualImage, the disks and machines of every namespace count; a namespace in
  ``status.usedInNamespaces`` counts too (the field is in the API, though no platform release fills it:
  deckhouse/virtualization reverted the code that did, so the disks and machines are what is checked).
Disks and machines are listed once per namespace (or once cluster-wide) per run, and only when asked.

The platform itself (v1.10.2 and main) counts only VirtualMachines that have the image in ``status.blockDeviceRefs``
and holds a deleted image with its protection finalizer while one does. main says so in an ``InUse`` condition;
v1.10 has none, so ``absent_unless_held`` names the machines itself instead of waiting out the deadline.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import (
    DONE, FAIL, WAIT, Verdict, is_absent,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, VIRTUAL_DISK, VIRTUAL_IMAGE, VIRTUAL_MACHINE, VIRTUAL_MACHINE_BLOCK_DEVICE_ATTACHMENT, Kind,
)


class Usage(NamedTuple):
    """Who uses one image: ``users`` as ``<Kind> <namespace>/<name>``, ``namespaces`` the platform lists (cluster
    images only); ``complete`` is False when a list was not allowed (then absence of users proves nothing);
    ``disks`` every VirtualDisk made from it, filled ones included (information: they no longer need it)."""

    users: List[str]
    namespaces: List[str]
    complete: bool = True
    disks: List[str] = []

    @property
    def in_use(self) -> bool:
        return bool(self.users or self.namespaces)

    def holding(self, obj: Mapping[str, Any]) -> str:
        """Why ``obj``, deleted already, is still there: the platform holds a delete while the image is in use
        ("" when it is not being deleted, or nothing uses it)."""
        if not (obj.get("metadata") or {}).get("deletionTimestamp") or not self.in_use:
            return ""
        return "being deleted; the platform holds it while it is " + self.describe()

    def describe(self) -> str:
        """``used by VirtualDisk ns/d, VirtualMachine ns/vm; in namespaces a, b``."""
        parts = []
        if self.users:
            parts.append("used by " + ", ".join(self.users))
        if self.namespaces:
            parts.append("used in namespaces " + ", ".join(self.namespaces))
        return "; ".join(parts)


def _refers(ref: Any, kind: str, name: str) -> bool:
    return isinstance(ref, Mapping) and ref.get("kind") == kind and ref.get("name") == name


# Phases of a disk or an image that hold their own copy of their source (or never will again).
FILLED_PHASES = ("Ready", "Resizing", "Migrating", "PVCLost", "ImageLost", "Terminating")


def made_from(obj: Mapping[str, Any], kind: str, name: str) -> bool:
    """The disk (or image) names the image as its source."""
    source = (obj.get("spec") or {}).get("dataSource") or {}
    return _refers(source.get("objectRef"), kind, name)


def filling_from(obj: Mapping[str, Any], kind: str, name: str) -> bool:
    """The disk (or image) is being filled from the image: made from it, not filled yet, not being deleted."""
    return made_from(obj, kind, name) and cond.phase(obj) not in FILLED_PHASES and \
        not (obj.get("metadata") or {}).get("deletionTimestamp")


def machine_uses(vm: Mapping[str, Any], kind: str, name: str) -> bool:
    """The machine has the image attached (in its spec, or hot-plugged as its status shows)."""
    refs = list((vm.get("spec") or {}).get("blockDeviceRefs") or []) + \
        list((vm.get("status") or {}).get("blockDeviceRefs") or [])
    return any(_refers(ref, kind, name) for ref in refs)


def attachment_uses(attachment: Mapping[str, Any], kind: str, name: str) -> bool:
    """A VirtualMachineBlockDeviceAttachment hot-plugs the image."""
    return _refers((attachment.get("spec") or {}).get("blockDeviceRef"), kind, name)


class UsageIndex:
    """Answers "what uses this image" from lists of disks and machines read once per scope (thread-safe)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._lists: Dict[Tuple[str, Optional[str]], Optional[List[Dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def _items(self, kind: Kind, namespace: Optional[str]) -> Optional[List[Dict[str, Any]]]:
        """The objects of ``kind`` in ``namespace`` (all namespaces for None); None when listing is forbidden."""
        key = (kind.kind, namespace)
        with self._lock:
            if key not in self._lists:
                try:
                    self._lists[key] = self.client.list(kind.collection_path(namespace)).get("items") or []
                except ApiError as exc:
                    if exc.status not in (403, 404):   # 404: the cluster does not serve that kind (no machines)
                        raise
                    self._lists[key] = None if exc.status == 403 else []
            return self._lists[key]

    def of(self, image: Mapping[str, Any], kind: Kind) -> Usage:
        """Who uses ``image`` (a VirtualImage or ClusterVirtualImage as listed)."""
        meta = image.get("metadata") or {}
        name = meta.get("name") or ""
        scope = meta.get("namespace") if kind.namespaced else None
        users: List[str] = []
        complete = True
        checks: List[Tuple[Kind, Callable[..., bool]]] = [
            (VIRTUAL_DISK, filling_from), (VIRTUAL_IMAGE, filling_from), (VIRTUAL_MACHINE, machine_uses),
            (VIRTUAL_MACHINE_BLOCK_DEVICE_ATTACHMENT, attachment_uses)]
        if not kind.namespaced:
            checks.append((CLUSTER_VIRTUAL_IMAGE, filling_from))
        for other, uses in checks:
            items = self._items(other, scope if other.namespaced else None)
            if items is None:
                complete = False
                continue
            users.extend(_ref(other, item) for item in items if uses(item, kind.kind, name))
        disks = [_ref(VIRTUAL_DISK, disk) for disk in self._items(VIRTUAL_DISK, scope) or []
                 if made_from(disk, kind.kind, name)]
        namespaces = [] if kind.namespaced else sorted(
            str(ns) for ns in ((image.get("status") or {}).get("usedInNamespaces") or []))
        return Usage(sorted(users), namespaces, complete, sorted(disks))

    def many(self, images: Iterable[Mapping[str, Any]], kind: Kind) -> List[Usage]:
        return [self.of(image, kind) for image in images]


def _ref(kind: Kind, obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return kind.ref(meta.get("name") or "", meta.get("namespace"))


# The finalizers the platform keeps on an image while a VirtualMachine uses it.
PROTECTION_FINALIZERS = ("virtualization.deckhouse.io/vi-protection", "virtualization.deckhouse.io/cvi-protection")


def held_by_protection(obj: Mapping[str, Any]) -> bool:
    """Deleted, and held only by the platform's protection finalizer, without an InUse condition to say why."""
    meta = obj.get("metadata") or {}
    finalizers = meta.get("finalizers") or []
    return bool(meta.get("deletionTimestamp") and finalizers and all(f in PROTECTION_FINALIZERS for f in finalizers)
                and cond.condition(obj, "InUse") is None)


def absent_or_held(obj: Optional[Mapping[str, Any]]) -> Verdict:
    """The wait of a forced delete: gone, or held for its users (the protection finalizer, or InUse on main); the
    runner then reports it pending."""
    meta = (obj or {}).get("metadata") or {}
    if obj is not None and meta.get("deletionTimestamp"):
        in_use = cond.condition(obj, "InUse") or {}
        if held_by_protection(obj) or in_use.get("status") == "True":
            return Verdict(DONE)
    return is_absent(obj)


def absent_unless_held(client: Client, kind: Kind) -> Tuple[Callable[[Optional[Mapping[str, Any]]], Verdict], str]:
    """The "absent" wait of an image, failing at once when its protection finalizer holds it for a VirtualMachine
    (a goal for Waiter.wait): the machines are named as the platform's InUse condition would name them."""
    def predicate(obj: Optional[Mapping[str, Any]]) -> Verdict:
        verdict = is_absent(obj)
        if verdict.state != WAIT or obj is None or not held_by_protection(obj):
            return verdict
        machines = [user.split(" ", 1)[1] for user in UsageIndex(client).of(obj, kind).users
                    if user.startswith(VIRTUAL_MACHINE.kind + " ")]
        if not machines:
            return verdict
        shown = [m if not kind.namespaced else m.split("/", 1)[1] for m in machines]
        return Verdict(FAIL, "the %s is in use by %s; detach it or stop %s to release it (it is held by the "
                       "platform's protection finalizer)" % (
                           kind.kind, 'the VirtualMachine "%s"' % shown[0] if len(shown) == 1 else
                           "%d VirtualMachines (%s)" % (len(shown), ", ".join('"%s"' % m for m in shown)),
                           "the VirtualMachine" if len(shown) == 1 else "them"))
    return predicate, "be deleted"
