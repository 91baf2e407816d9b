"""The sandbox's Streebog on both paths (`openssl dgst` with the GOST provider, and gostcrypto) against the
standard's examples in the byte order of the platform's Go library, and its child process never outliving
an interrupted upload."""
from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from sandbox.controller.imports import streebog
from sandbox.controller.imports.diskinfo import Checksums

# GOST R 34.11-2012 (RFC 6986) M1 and M2 in the byte order of the platform's Go library (shared with the unit tests).
_VECTORS = Path(__file__).resolve().parents[1] / "unit/plugins/module_utils/common/streebog_vectors.json"
_DOC = json.loads(_VECTORS.read_text())
MESSAGES = {name: bytes.fromhex(value) for name, value in _DOC["messages"].items()}
M1 = MESSAGES["M1"]
VECTORS = [(MESSAGES[name], algo, digest) for name, algo, digest in _DOC["digests"]]
needs_provider = pytest.mark.skipif(not streebog.native(), reason="libengine-gost-openssl is not installed")


@pytest.mark.parametrize("native", [pytest.param(True, marks=needs_provider), False], ids=["openssl", "gostcrypto"])
@pytest.mark.parametrize("message,algo,expected", VECTORS, ids=["M1-256", "M1-512", "M2-256", "M2-512"])
def test_both_paths_give_the_standards_digests(native: bool, message: bytes, algo: str, expected: str) -> None:
    h = streebog.new(algo, use_native=native)
    for start in range(0, len(message), 10):
        h.update(message[start:start + 10])
    assert h.hexdigest() == expected


@needs_provider
def test_checksums_take_the_native_path_and_report_a_mismatch_in_the_platforms_words() -> None:
    sums = Checksums({"streebog256": VECTORS[0][2].upper(), "streebog512": "0" * 128})
    assert all(type(h).__name__ == "_PipeHash" for h in sums._h.values())
    sums.update(M1)
    assert sums.mismatch() == "streebog512 sum mismatch: %s != %s" % ("0" * 128, VECTORS[1][2])


@needs_provider
def test_a_hash_dropped_unfinished_ends_its_child() -> None:
    h = streebog.new("streebog512", use_native=True)
    h.update(os.urandom(1 << 20))
    proc, feeder = h.proc, h.feeder
    del h
    gc.collect()
    assert proc.wait(timeout=10) is not None
    feeder.join(timeout=10)
    assert not feeder.is_alive()
