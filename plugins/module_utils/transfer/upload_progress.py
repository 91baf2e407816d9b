# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""How a send went, as it goes and once done: the "uploading" lines, throttled so that the action plugin's tail
shows a rate, not a flood, and the figures of the result."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import Outcome

PROGRESS_INTERVAL = 1.0


def human_bytes(value: float) -> str:
    """Binary units with one decimal, as the platform prints sizes."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "%.1f GiB" % value  # pragma: no cover


class SendProgress:
    """Throttled "uploading" lines for the action plugin's tail: at most one per PROGRESS_INTERVAL, and the last."""

    def __init__(self, tracker: Tracker, clock: Callable[[], float]) -> None:
        self.tracker = tracker
        self.clock = clock
        self.started = clock()
        self.last = 0.0

    def __call__(self, sent: int, total: int) -> None:
        now = self.clock()
        if sent < total and now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        self.tracker.note("uploading %s of %s (%d%%), %s/s" % (
            human_bytes(sent), human_bytes(total), sent * 100 // max(total, 1), human_bytes(sent / elapsed)))


def sent_figures(sent: Optional[Outcome]) -> Dict[str, Any]:
    """The result's figures of the send (zeros when nothing was sent): bytes, seconds, bytes per second."""
    return {
        "bytes": sent.sent if sent else 0,
        "seconds": round(sent.seconds, 3) if sent else 0.0,
        "throughput": round(sent.sent / sent.seconds, 1) if sent and sent.seconds > 0 else 0.0,
        "transfer_seconds": round(sent.transfer_seconds, 3) if sent else 0.0,
    }
