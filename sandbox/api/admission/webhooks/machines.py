"""vm.* and vmop.* webhooks (the checks that need no cluster look-ups)."""
from __future__ import annotations

from ....vmop_rules import REFUSED, first_blocker
from .base import Denied, Review

_KUBEVIRT_GROUP = "kubevirt.io"
_MAX_VM_NAME = 63


def _meta(r: Review) -> None:
    meta = r.new.get("metadata") or {}
    if r.operation == "CREATE" and len(r.name) > _MAX_VM_NAME:
        raise Denied(f'the VirtualMachine name "{r.name}" is too long: it must be no more than '
                     f"{_MAX_VM_NAME} characters")
    for what, field in (("annotation", "annotations"), ("label", "labels")):
        if any(_KUBEVIRT_GROUP in key for key in meta.get(field) or {}):
            raise Denied(f"using the {_KUBEVIRT_GROUP} group's name in the {what} is prohibited")


def _block_devices(r: Review) -> None:
    seen: set[tuple[str, str]] = set()
    refs = r.spec().get("blockDeviceRefs") or []
    for ref in refs:
        key = (ref.get("kind", ""), ref.get("name", ""))
        if key in seen:
            raise Denied("cannot specify the same block device reference more than once: "
                         f'{key[0]} with name "{key[1]}" has a duplicate reference')
        seen.add(key)
    orders: dict[int, str] = {}
    for ref in refs:
        order = ref.get("bootOrder")
        if order is None:
            continue
        if order in orders:
            raise Denied(f"duplicate bootOrder {order}: already used by {orders[order]}, conflicts with "
                         f'{ref.get("kind", "")} "{ref.get("name", "")}"')
        orders[order] = f'{ref.get("kind", "")}/{ref.get("name", "")}'


def _first_block_device(r: Review) -> None:
    """A Ready image that is not a CD-ROM cannot be the first (boot) device; needs ``lookup``."""
    refs = r.spec().get("blockDeviceRefs") or []
    if r.lookup is None or not refs or (r.operation == "UPDATE" and refs == r.old_spec().get("blockDeviceRefs")):
        return
    kind, name = refs[0].get("kind"), refs[0].get("name", "")
    if kind not in ("VirtualImage", "ClusterVirtualImage"):
        return
    image = r.lookup(kind, r.namespace if kind == "VirtualImage" else "", name)
    status = (image or {}).get("status") or {}
    if image is not None and not status.get("cdrom") and status.get("phase") == "Ready":
        raise Denied(f"a non-CDROM {kind} cannot occupy the first position in block devices: "
                     f"{kind} {name} is not CDROM")


def check_vm(r: Review) -> list[str]:
    _meta(r)
    _block_devices(r)
    _first_block_device(r)
    return []


def _no_active_operation(r: Review) -> None:
    """An unfinished operation of the same VM blocks a new one unless the new one may supersede it; needs
    ``listing``."""
    if r.listing is None:
        return
    blocker = first_blocker(r.new, r.listing("VirtualMachineOperation", r.namespace))
    if blocker is not None:
        raise Denied(REFUSED.format(name=(blocker.get("metadata") or {}).get("name", "")))


def check_vmop(r: Review) -> list[str]:
    _no_active_operation(r)
    if r.spec().get("type") == "Migrate":
        return ["The Migrate type is deprecated, consider using Evict operation"]
    return []
