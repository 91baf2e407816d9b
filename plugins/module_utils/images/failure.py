# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What a failed import's message leaves out, said next to it: which URL answered an error (redacted), which
digest was expected and which the file has, and that the platform does not import a Failed image again.

The platform's own words stay first and whole; this only adds what the user needs to act on them.
"""

from __future__ import annotations

import re
from typing import Any, List, Mapping

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.redaction import redact_query

# The importer's words for an HTTP answer other than 200, and for a digest that does not match.
_HTTP_STATUS = re.compile(r"expected status code 200, got (\d{3})")
_ALGORITHMS = r"(md5|sha1|sha256|sha512|streebog256|streebog512)"
_SUM_MISMATCH = re.compile(r"\b%s sum mismatch: ([0-9a-fA-F]+) != ([0-9a-fA-F]+)" % _ALGORITHMS)
# DVP v1.10.2 passes the importer's arguments in the wrong order: `<actual> sum mismatch: <algo> != <expected>`.
_SUM_MISMATCH_V1_10 = re.compile(r"\b([0-9a-fA-F]+) sum mismatch: %s != ([0-9a-fA-F]+)" % _ALGORITHMS)
FAILED_IS_FINAL = ("the platform does not import a Failed image again by itself: fix the source, then run the task "
                   "again (it makes the image anew)")
_IMAGE_KINDS = ("VirtualImage", "ClusterVirtualImage")


def explain_failure(obj: Mapping[str, Any], msg: str) -> str:
    """``msg`` followed by what it leaves out (nothing for phases other than Failed); the note on a re-run is for
    images, which a re-run makes anew (a disk is remade only with ``recreate``)."""
    if cond.phase(obj) != "Failed":
        return msg
    notes: List[str] = []
    url = (((obj.get("spec") or {}).get("dataSource") or {}).get("http") or {}).get("url")
    status = _HTTP_STATUS.search(msg)
    if status and url:
        notes.append("the URL %s answered HTTP %s" % (redact_query(url), status.group(1)))
    mismatch, swapped = _SUM_MISMATCH.search(msg), _SUM_MISMATCH_V1_10.search(msg)
    if mismatch or swapped:
        if mismatch:
            algo, expected, actual = mismatch.groups()
        else:
            actual, algo, expected = swapped.groups()
        notes.append("expected %s %s (the task's checksum), the downloaded file's %s is %s"
                     % (algo, expected, algo, actual))
    if obj.get("kind") in _IMAGE_KINDS:
        notes.append(FAILED_IS_FINAL)
    return "%s (%s)" % (msg, "; ".join(notes)) if notes else msg
