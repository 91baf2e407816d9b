# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The typed options of one VirtualDisk and of one VirtualDiskSnapshot: what ``virtual_disk`` and
``virtual_disk_snapshot`` take, and what capture builds for the snapshot it takes.

A disk's ``source`` has the blocks of an image's (one argument spec, args.source_spec), so the manifest and
pull-Secret builders of the images serve disks too: the field names here match ImageOptions' on purpose.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, NamedTuple, Optional, Type, TypeVar

DEFAULT_WAIT_FOR = "WaitForFirstConsumer"
T = TypeVar("T")


def _from_params(cls: Type[T], params: Mapping[str, Any]) -> T:
    """The typed options from module parameters of the same names (a None parameter takes the field's default)."""
    return cls(**{field: params[field] for field in getattr(cls, "_fields") if params.get(field) is not None})


class DiskOptions(NamedTuple):
    """One disk as the user describes it. No ``source`` and a ``size``: a blank disk."""

    name: Optional[str] = None
    namespace: Optional[str] = None
    state: str = "present"
    source: Optional[Dict[str, Any]] = None
    size: Optional[str] = None
    storage_class: Optional[str] = None
    labels: Optional[Dict[str, Any]] = None
    annotations: Optional[Dict[str, Any]] = None
    recreate: bool = False
    force: bool = False
    wait: bool = True
    wait_for: str = DEFAULT_WAIT_FOR
    wait_timeout: float = 1800.0

    present = property(lambda self: self.state != "absent", doc="``state: present``.")
    from_params = classmethod(_from_params)  # names as in modules/virtual_disk.py's argument_spec


class SnapshotOptions(NamedTuple):
    """One VirtualDiskSnapshot of a disk."""

    name: str
    namespace: str
    disk: Optional[str] = None
    state: str = "present"
    required_consistency: bool = True
    labels: Optional[Dict[str, Any]] = None
    annotations: Optional[Dict[str, Any]] = None
    recreate: bool = False   # take a Failed snapshot anew (the platform never retries one)
    wait: bool = True
    wait_timeout: float = 1800.0

    present = property(lambda self: self.state != "absent", doc="``state: present``.")
    from_params = classmethod(_from_params)  # names as in modules/virtual_disk_snapshot.py's argument_spec
