# -*- coding: utf-8 -*-
"""Finishing a run killed between the last byte and the record: only for the very file that was sent."""

from __future__ import annotations

import os

from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.resume import (
    finished_unrecorded, sending_mark,
)


def test_the_mark_of_this_unchanged_file_on_an_unrecorded_object_is_finished(tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"12345")
    mark = sending_mark(str(disk), 5)
    assert finished_unrecorded({}, None, mark, str(disk), 5)
    assert finished_unrecorded({}, 5, mark, str(disk), 5)


def test_a_record_another_size_another_file_or_a_changed_file_is_no_proof(tmp_path):
    disk, other = tmp_path / "disk.img", tmp_path / "other.img"
    disk.write_bytes(b"12345")
    other.write_bytes(b"12345")
    mark = sending_mark(str(disk), 5)
    assert not finished_unrecorded({"sha1": "aa" * 20}, 5, mark, str(disk), 5)   # already recorded
    assert not finished_unrecorded({}, 4, mark, str(disk), 5)                     # the object holds other bytes
    assert not finished_unrecorded({}, None, mark, str(other), 5)
    assert not finished_unrecorded({}, None, None, str(disk), 5)
    assert not finished_unrecorded({}, None, '{"sending": 1}', str(disk), 5)
    os.utime(str(disk), ns=(1, 1))
    assert not finished_unrecorded({}, None, mark, str(disk), 5)
