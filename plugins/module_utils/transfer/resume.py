# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Finishing an upload whose run was killed after the server took the last byte and before the upload's record
(the checksum annotation) was written.

Why: such an image is Ready without a record, which is also what an image uploaded by someone else looks like,
and that one must not be claimed (its content may differ). So before the first byte is sent the runner writes
a mark in the record's place naming the file it sends (an identity: path, device, inode, size, modification
time, hashed); a run that finds a Ready image with the mark of the very file it is given knows that the bytes
came from it, unchanged since, and only records them. A different or changed file is the recreate rule's case.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Mapping, Optional

SENDING = "sending"


def file_identity(path: str) -> str:
    """What tells the same file unchanged apart from any other: not its content (that would mean reading it)."""
    info = os.stat(path)
    key = "%s\0%d\0%d\0%d\0%d" % (os.path.realpath(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def sending_mark(path: str, size: int) -> str:
    """The record's value while ``path`` is being sent."""
    return json.dumps({SENDING: {"file": file_identity(path), "size": size}}, separators=(",", ":"))


def sent_from(value: Optional[str], path: str, size: int) -> bool:
    """The record's ``value`` is the mark of this very file, unchanged since it was sent."""
    try:
        mark = (json.loads(value or "{}") or {}).get(SENDING)
    except (ValueError, AttributeError):
        return False
    return isinstance(mark, dict) and mark == {"file": file_identity(path), "size": size}


def finished_unrecorded(recorded_sums: Mapping[str, str], recorded_size: Optional[int], value: Optional[str],
                        path: str, size: int) -> bool:
    """The object holds what this very file sent, from a run killed before it recorded it: only the record is left.

    ``recorded_sums``/``recorded_size``: what the object's record says (no checksums when it holds a mark);
    ``value``: the annotation in the record's place."""
    return not recorded_sums and recorded_size in (None, size) and sent_from(value, path, size)
