# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The platform's rules for a disk that the modules apply before any write: its size only grows, its spec locks
once it holds data, a disk a VM uses is neither recreated nor deleted (unless forced), and the object a disk or a
snapshot is made from exists.

Kept in one place so that the disk runner, its upload and capture never disagree on who "uses" a disk.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Optional, Tuple

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, DISK_PROVISIONED_PHASES, FIRST_CONSUMER_PHASE, VIRTUAL_DISK, VIRTUAL_DISK_SNAPSHOT,
    VIRTUAL_IMAGE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.quantity import quantity_or_none
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.summary import attached_vms, describe_vms
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.summary import size_bytes
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.decision import (
    IN_PLACE, SAME, SpecLock,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload import UploadRules

SIZE_PATH = "spec.persistentVolumeClaim.size"
CLASS_PATH = "spec.persistentVolumeClaim.storageClassName"
MIGRATING = "Migrating"


def disk_size(disk: Mapping[str, Any]) -> Optional[Tuple[Decimal, str]]:
    """The disk's size (value, text): the larger of its spec size and its ``status.capacity`` (a disk made without a
    size has the size of its source, and one whose spec says less than it holds holds more); None when neither is
    known."""
    spec_text = ((disk.get("spec") or {}).get("persistentVolumeClaim") or {}).get("size")
    capacity_text = (disk.get("status") or {}).get("capacity")
    sizes = [(q, text) for q, text in ((quantity_or_none(spec_text), spec_text),
                                       (quantity_or_none(capacity_text), capacity_text)) if q is not None]
    return max(sizes, key=lambda pair: pair[0]) if sizes else None


def grow_only(disk: Mapping[str, Any], live: Any, wanted: Any) -> str:
    """The size rule: the same value (``10Gi`` is ``10240Mi``) or one at least the disk's size (disk_size), patched
    in place (the platform resizes the volume). A smaller size is refused naming both, since the platform never
    shrinks a disk."""
    have, want = quantity_or_none(live), quantity_or_none(wanted)
    if want is None or have == want:
        return SAME
    if cond.phase(disk) == MIGRATING:
        return ("size %s cannot be set while the disk is Migrating: the platform refuses size changes until the "
                "migration ends; run the task again once the disk is Ready" % wanted)
    held = disk_size(disk)
    if held is None:
        return IN_PLACE
    floor, floor_text = held
    if want >= floor:
        return IN_PLACE
    return ("size %s is smaller than the disk's size %s: the platform only grows a disk (shrinking would lose "
            "data); give at least %s, or make a new disk" % (wanted, floor_text, floor_text))


# After provisioning only the size changes, in place; a different source or storage class is locked.
DISK_DATA_LOST = "the data on the disk is lost"
DISK_LOCK = SpecLock(phases=DISK_PROVISIONED_PHASES, in_place={SIZE_PATH: grow_only}, recreate_loses=DISK_DATA_LOST)


def why_not_recreate(disk: Mapping[str, Any]) -> str:
    """"" when the disk may be deleted and made anew; else why not (a VM uses it: its data would be lost under it)."""
    vms = attached_vms(disk)
    if not vms:
        return ""
    return ("it is attached to %s, and a disk a virtual machine uses is never recreated: detach it first, or "
            "make a new disk" % describe_vms(vms))


def class_move(disk: Optional[Mapping[str, Any]], wanted: Optional[str]) -> Optional[Tuple[str, str]]:
    """(the disk's class, ``wanted``) when ``wanted`` names another class than the disk's spec and the disk is past
    Pending: the platform takes such a change only as a volume migration (a disk mounted to a running virtual
    machine, on an edition that enables it), which this module does not start, and refuses it otherwise. None when
    the class may be written (a new disk, a Pending one, the same class, none named)."""
    if disk is None or not wanted:
        return None
    spec_class = storage_class_of(disk)
    if wanted == spec_class or cond.phase(disk) == "Pending":
        return None
    return (disk.get("status") or {}).get("storageClassName") or spec_class or "the default class", wanted


def storage_class_of(disk: Optional[Mapping[str, Any]]) -> Optional[str]:
    """``spec.persistentVolumeClaim.storageClassName``, None when the spec names none (the default class)."""
    return (((disk or {}).get("spec") or {}).get("persistentVolumeClaim") or {}).get("storageClassName")


def class_move_refused(ref: str, disk: Mapping[str, Any], move: Tuple[str, str], recreate: bool) -> str:
    """Why the class cannot be written, or "" when ``recreate`` makes a new disk on it instead (never while a
    virtual machine uses the disk)."""
    have, want = move
    head = ('storage_class: %s is on storage class "%s" (phase %s) and the platform does not move a disk past '
            'Pending to another class ("%s")' % (ref, have, cond.phase(disk) or "not set yet", want))
    if not recreate:
        return ("%s. Set recreate: true to delete the disk and make a new one on \"%s\" (%s); nothing was written"
                % (head, want, DISK_DATA_LOST))
    refused = why_not_recreate(disk)
    if refused:
        return "%s, and recreate: true cannot make it anew: %s; nothing was written" % (head, refused)
    return ""


# An upload into a disk: on a late-binding storage class the uploaded data waits in DVCR for the first consumer, so
# WaitForFirstConsumer holds the upload too.
DISK_UPLOAD = UploadRules(holds_data=DISK_PROVISIONED_PHASES + (FIRST_CONSUMER_PHASE,), ready="disk-ready",
                          why_not_recreate=why_not_recreate, recreate_loses=DISK_DATA_LOST)


_REF_KINDS = {kind.kind: kind for kind in (VIRTUAL_IMAGE, CLUSTER_VIRTUAL_IMAGE, VIRTUAL_DISK_SNAPSHOT, VIRTUAL_DISK)}


_IMAGE_KINDS = (VIRTUAL_IMAGE.kind, CLUSTER_VIRTUAL_IMAGE.kind)
# The platform sizes a volume for an image's data aligned up to whole MiB, and fails a disk whose size is below.
_ALIGN = 1 << 20


def check_source_exists(client: Client, data_source: Optional[Mapping[str, Any]], namespace: str,
                        option: str = "source.object_ref.name", size: Optional[str] = None) -> None:
    """The object ``spec.dataSource.objectRef`` names exists; else a ValidationError naming ``option`` (the
    platform would leave the disk Pending for ever, waiting for an object nobody makes). With ``size``, an image
    source's data must fit in it (see check_fits)."""
    ref = (data_source or {}).get("objectRef") or {}
    kind = _REF_KINDS.get(ref.get("kind") or "")
    if kind is None:
        return
    source = client.get(kind.object_path(ref["name"], namespace))
    if source is None and client.check_mode:
        # a pipeline in check mode: an earlier task may only have dry-run the source
        warn("%s: %s does not exist; in a real run this task fails unless an earlier task makes it"
             % (option, kind.ref(ref["name"], namespace)))
        return
    if source is None:
        raise ValidationError("%s: %s does not exist; nothing was written" % (option, kind.ref(ref["name"], namespace)))
    if size is not None and kind.kind in _IMAGE_KINDS:
        check_fits(size, source, kind.ref(ref["name"], namespace))


def _binary_text(n: int) -> str:
    """Whole MiB as the largest binary unit that divides them: ``4Mi``, ``2Gi``."""
    for unit, factor in (("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20)):
        if n % factor == 0:
            return "%d%s" % (n // factor, unit)
    return str(n)


def check_fits(size: str, image: Mapping[str, Any], ref: str) -> None:
    """A disk made from an image holds at least the image's unpacked data, aligned up to whole MiB as the platform
    does; a smaller ``size`` is refused before any write (the platform would create the disk and fail it: "The
    specified pvc size is insufficient"). An image not yet measured (no ``status.size``) is not checked."""
    held = size_bytes((image.get("status") or {}).get("size") or {}, "unpacked")
    want = quantity_or_none(size)
    if held is None or want is None:
        return
    need = -(-held // _ALIGN) * _ALIGN
    if want < need:
        raise ValidationError("size %s is smaller than the data of %s, which unpacks to %s (%d bytes): the platform "
                              "would fail the disk; give at least %s, or leave size out to take the image's size; "
                              "nothing was written" % (size, ref, _binary_text(need), held, _binary_text(need)))
