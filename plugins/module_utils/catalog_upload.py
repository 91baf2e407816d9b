# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Uploads for ``path`` entries, through the collection's upload library.

The catalog does not stream files itself (one upload implementation in the
collection: upload.py). This adapter returns None when that library cannot be
imported, in which case ``path`` entries fail with a clear message and the rest
of the catalog still runs.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible_collections.deckhouse.virtualization.plugins.module_utils.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.kinds import Kind
from ansible_collections.deckhouse.virtualization.plugins.module_utils.progress import Tracker

Upload = Callable[[Client, Kind, Mapping[str, Any], Mapping[str, Any], Tracker, float], Tuple[Any, bool]]


def uploader() -> Optional[Upload]:
    """``upload(client, kind, obj, entry_params, tracker, seconds_left) -> (image, changed)``, or None."""
    try:
        from ansible_collections.deckhouse.virtualization.plugins.module_utils.upload import (
            UploadOptions, UploadRunner,
        )
    except ImportError:
        return None

    def upload(client: Client, kind: Kind, obj: Mapping[str, Any], entry_params: Mapping[str, Any],
               tracker: Tracker, seconds_left: float) -> Tuple[Any, bool]:
        """Send the file when the image waits for it; a Ready image is checked against the file's checksum."""
        block: Dict[str, Any] = entry_params["source"]["upload"]
        checksum = {algo: value for algo, value in (block.get("checksum") or {}).items() if value}
        opts = UploadOptions(path=block["path"], checksum=checksum, wait=True, wait_timeout=seconds_left)
        meta = obj.get("metadata") or {}
        result = UploadRunner(client, kind, meta["name"], meta.get("namespace"), opts, tracker).run(obj)
        return result.get("image") or obj, bool(result.get("changed"))

    return upload
