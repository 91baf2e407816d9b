# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Checking the file against checksums: those given to the task, those in the object's spec, and its record.

One place for what counts as a match, so that a Ready object is kept, a send is stopped before its last byte and
the result's ``verified_by`` all follow the same rule.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.hashing import (
    algorithms_for, hash_file, mismatches,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.transfer.upload_record import spec_checksums


def expected_checksums(obj: Mapping[str, Any], given: Mapping[str, str], ref: str) -> Dict[str, str]:
    """Given checksums plus those in the image's spec (the server checks those): verified before the last byte.

    A given checksum that contradicts the spec's fails before anything is sent: one of them is wrong."""
    expected = spec_checksums(obj)
    for algo, value in given.items():
        if algo in expected and expected[algo] != value.lower():
            raise ObjectFailed("%s: checksum.%s is %s but the image's spec.dataSource.upload.checksum.%s is %s; "
                               "nothing was sent" % (ref, algo, value.lower(), algo, expected[algo]), image=obj)
        expected[algo] = value.lower()
    return expected


def check_given(given: Mapping[str, str], computed: Mapping[str, str], sent: int, file_path: str) -> None:
    """Fail when the file's checksums differ from the given ones; the message says whether any byte left."""
    wrong = mismatches(dict(given), dict(computed))
    if not wrong:
        return
    where = ("nothing was sent" if sent == 0 else
             "the upload was stopped before its last byte, so nothing was stored (the platform marks an "
             "interrupted upload Failed; the next run recreates it)")
    raise ObjectFailed("the file %s does not match the given checksum: %s; %s"
                       % (file_path, "; ".join("checksum.%s is %s but the file's is %s" % w for w in wrong),
                          where), checksums=dict(computed))


def file_checksums(file_path: str, given: Mapping[str, str], recorded_sums: Mapping[str, str]) -> Dict[str, str]:
    """The file's checksums in the algorithms that the given checksums and the record name."""
    return hash_file(file_path, algorithms_for(dict(given), dict(recorded_sums)))[0]


def content_differences(recorded_sums: Mapping[str, str], recorded_size: Optional[int], file_size: int,
                        file_sums: Mapping[str, str]) -> List[str]:
    """How the object's record differs from the file: the differing fields the recreate rule is given."""
    differing: List[str] = []
    if recorded_size is not None and recorded_size != file_size:
        differing.append("size (image %d bytes, file %d bytes)" % (recorded_size, file_size))
    if not recorded_sums:
        differing.append("checksum (the image has no recorded checksum: it was uploaded by something else)")
    for algo, value in sorted(recorded_sums.items()):
        if file_sums.get(algo) != value:
            differing.append("checksum.%s (image %s, file %s)" % (algo, value, file_sums.get(algo)))
    return differing


def verified_by(obj: Optional[Mapping[str, Any]], given: Mapping[str, str], check_mode: bool) -> List[str]:
    """Who checked the bytes against a checksum: the module (given or spec checksums, before the last byte) and the
    platform (only what the image's spec.dataSource.upload.checksum holds); a dry run verifies nothing."""
    if check_mode:
        return []
    in_spec = bool(spec_checksums(obj or {}))
    return (["module"] if given or in_spec else []) + (["platform"] if in_spec else [])
