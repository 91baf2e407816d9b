"""The platform's validating webhooks (virtualization-controller), without cluster look-ups.

Each kind maps to one webhook (its real name) and a check that returns warnings or raises
:class:`Denied` with the webhook's message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .base import Denied, Review
from .disks import check_vd, check_vdsnapshot
from .images import check_cvi, check_vi
from .machines import check_vm, check_vmop

Check = Callable[[Review], list[str]]


@dataclass(frozen=True)
class Webhook:
    name: str
    operations: frozenset[str]
    check: Check


_SUFFIX = "virtualization-controller.validate.d8-virtualization"
_CU = frozenset({"CREATE", "UPDATE"})

WEBHOOKS: dict[str, Webhook] = {
    "VirtualImage": Webhook(f"vi.{_SUFFIX}", _CU, check_vi),
    "ClusterVirtualImage": Webhook(f"cvi.{_SUFFIX}", _CU, check_cvi),
    "VirtualDisk": Webhook(f"vd.{_SUFFIX}", _CU, check_vd),
    "VirtualDiskSnapshot": Webhook(f"vdsnapshot.{_SUFFIX}", frozenset({"UPDATE"}), check_vdsnapshot),
    "VirtualMachine": Webhook(f"vm.{_SUFFIX}", _CU, check_vm),
    "VirtualMachineOperation": Webhook(f"vmop.{_SUFFIX}", frozenset({"CREATE"}), check_vmop),
}

__all__ = ["WEBHOOKS", "Denied", "Review", "Webhook"]
