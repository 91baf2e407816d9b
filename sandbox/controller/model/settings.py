"""Controller knobs: defaults as the platform has them, overridable for tests.

Global values come from `<state>/controller/settings.json` (written by `up` from the
component's options, or by hand) and CLI flags; a test that needs a short deadline on
one object sets an annotation on that object instead, so parallel tests never affect
each other.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

ANNOTATION_PREFIX = "sandbox.deckhouse.io/"


@dataclass
class Settings:
    upload_deadline: float = 600.0       # seconds from URLs published to upload start
    retry_window: float = 120.0          # how long transient HTTP errors are retried
    import_rate: int = 0                 # bytes/s cap on every import (0: none; "slow imports")
    image_check_interval: float = 180.0  # how often Ready images are checked in DVCR (ImageLost)
    vm_step: float = 0.3                 # seconds a VM spends in Starting / Stopping
    quota_grace: float = 1800.0          # image age until a quota refusal says "Retry in 1 minute."
    quota_retry: float = 60.0            # seconds between retries after a quota refusal (past the grace)
    resize_step: float = 1.0             # seconds a disk spends in Resizing
    snapshot_step: float = 0.5           # seconds a VolumeSnapshot takes to become ready to use
    platform: str = "dev"                # the platform line served (from sandbox.json; not per object)

    @classmethod
    def load(cls, path: Path, overrides: dict | None = None) -> "Settings":
        data: dict = {}
        if path.exists():
            data.update(json.loads(path.read_text()))
        data.update({k: v for k, v in (overrides or {}).items() if v is not None})
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def for_object(self, obj: dict) -> "Settings":
        """These settings with per-object annotation overrides (`sandbox.deckhouse.io/<name>` with dashes)."""
        ann = (obj.get("metadata") or {}).get("annotations") or {}
        values = asdict(self)
        for f in fields(self):
            if f.name == "platform":
                continue
            raw = ann.get(ANNOTATION_PREFIX + f.name.replace("_", "-"))
            if raw is not None:
                try:
                    values[f.name] = type(getattr(self, f.name))(float(raw))
                except ValueError:
                    pass
        return Settings(**values)
