"""Where the controller keeps data on disk, under `<state>/controller/`.

    volumes/<ns>/<pvc>.img      what a PVC holds (a VirtualDisk's disk, a PVC-stored image)
    snapshots/<ns>/<name>-<uid>.img
    work/<uid>/                 scratch space of one import or disk fill
"""
from __future__ import annotations

from pathlib import Path

from ..model.names import disk_pvc


class Files:
    def __init__(self, root: Path) -> None:
        self.root = root

    def volume(self, ns: str, pvc: str) -> Path:
        return self.root / "volumes" / ns / f"{pvc}.img"

    def disk(self, vd: dict) -> Path:
        """A VirtualDisk's disk file (the volume of its PVC)."""
        return self.volume(vd["metadata"]["namespace"], disk_pvc(vd))

    def snapshot(self, snap: dict) -> Path:
        md = snap["metadata"]
        return self.root / "snapshots" / md["namespace"] / f"{md['name']}-{md['uid']}.img"

    def work_dir(self, uid: str) -> Path:
        """Scratch space for one object's import (made here; the caller removes it)."""
        d = self.root / "work" / uid
        d.mkdir(parents=True, exist_ok=True)
        return d
