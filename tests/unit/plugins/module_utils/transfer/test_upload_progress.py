# -*- coding: utf-8 -*-
"""The send's report: throttled progress lines and the result's figures."""

from __future__ import annotations

from typing import List

from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.stream import Outcome
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_progress import (
    SendProgress, human_bytes, sent_figures,
)


class Notes:
    def __init__(self) -> None:
        self.lines: List[str] = []

    def note(self, text: str) -> None:
        self.lines.append(text)


def test_sizes_read_as_the_platform_prints_them():
    assert [human_bytes(v) for v in (0, 1023, 1536, 3 * 1024 ** 3, 5000 * 1024 ** 3)] == [
        "0 B", "1023 B", "1.5 KiB", "3.0 GiB", "5000.0 GiB"]


def test_progress_lines_are_throttled_but_the_last_one_always_shows():
    now = [10.0]
    notes = Notes()
    progress = SendProgress(notes, lambda: now[0])  # type: ignore[arg-type]
    now[0] = 11.0
    progress(1024, 4096)
    now[0] = 11.5
    progress(2048, 4096)        # within a second of the last line
    progress(4096, 4096)        # the last byte
    assert notes.lines == ["uploading 1.0 KiB of 4.0 KiB (25%), 1.0 KiB/s",
                           "uploading 4.0 KiB of 4.0 KiB (100%), 2.7 KiB/s"]


def test_the_figures_of_a_send_and_of_none():
    assert sent_figures(Outcome(200, "", 1000, 0.25, {}, 0.2)) == {
        "bytes": 1000, "seconds": 0.25, "throughput": 4000.0, "transfer_seconds": 0.2}
    assert sent_figures(None) == {"bytes": 0, "seconds": 0.0, "throughput": 0.0, "transfer_seconds": 0.0}
