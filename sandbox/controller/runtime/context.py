"""The narrow context a reconciler works with, instead of the whole controller.

A reconciler reads the cluster through `cache`, writes through `writer`, wakes objects up
through `queue`, finds its files through `files`, reads its knobs from `settings` and talks to
DVCR through `dvcr`. What only some reconcilers share (the image imports in flight, the VMs'
power wishes) is handed to those reconcilers' constructors, not put here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ...dvcr import Registry
from ..model.kinds import Kind
from ..model.settings import Settings
from .cache import Cache
from .files import Files
from .workqueue import WorkQueue
from .writer import Writer


@dataclass(frozen=True)
class Context:
    cache: Cache
    writer: Writer
    queue: WorkQueue
    files: Files
    settings: Settings
    dvcr: Registry


class Reconciler(Protocol):
    """One kind's reconciler: level-triggered, so every call looks at the object afresh."""
    kind: Kind

    async def reconcile(self, obj: dict) -> None:
        """Move the object one step towards what its spec asks and write the status that follows."""

    def forget(self, obj: dict) -> None:
        """The object is gone: drop what the controller holds for it (tasks, files)."""
