"""A disk's volume: how big its PVC must be, and how its raw file is made from the source data.

Shared by every source that brings data (images, snapshots, HTTP, registry, upload); nothing here talks to the
API, so the rules can be tested without a sandbox.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

from ... import tools
from ...api.admission.pvcsize import capitalized, pvc_size_error, required_size
from ...api.admission.quantity import Quantity
from .diskinfo import decompress_to, qemu_info
from .importers import Feed, ImportFailed


class InsufficientSize(ImportFailed):
    """The spec asks for less than the data needs (service.ErrInsufficientPVCSize). str() is the condition's
    message; `error` is the Go error text the platform's Warning event carries (lower case, no full stop)."""

    def __init__(self, error: str) -> None:
        super().__init__(capitalized(error) + ".")
        self.error = error


def spec_size(vd: dict) -> str | None:
    """The size the disk's spec asks for (`spec.persistentVolumeClaim.size`), None when it leaves it out."""
    return ((vd.get("spec") or {}).get("persistentVolumeClaim") or {}).get("size")


def pvc_size(spec_size: str | None, required: int) -> tuple[int, str]:
    """(bytes, capacity text) of the PVC for data of `required` bytes (GetValidatedPVCSize); raises
    InsufficientSize, with the platform's text, when the spec asks for less."""
    if spec_size is None:
        need = required_size(required)
        return int(need.value), str(need)
    want = Quantity(str(spec_size))
    error = pvc_size_error(want, required)
    if error:
        raise InsufficientSize(error)
    return int(want.value), str(want)


def fill_volume(source: Callable[[], Path], path: Path, size: int, feed: Feed, workdir: Path) -> None:
    """The PVC's volume: the source converted to raw, grown to the PVC size (blocking; in a thread)."""
    feed.check()
    data = source()
    plain = workdir / "plain"
    decompress_to(data, plain)
    feed.fraction = 0.5
    feed.notify()
    fmt, vsize = qemu_info(plain)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([tools.command("qemu-img"), "convert", "-q", "-f", fmt, "-O", "raw", str(plain), str(path)],
                   check=True, capture_output=True)
    if size > vsize:
        subprocess.run([tools.command("qemu-img"), "resize", "-q", "-f", "raw", str(path), str(size)], check=True,
                       capture_output=True)
    feed.fraction = 0.999
    feed.check()
