# -*- coding: utf-8 -*-
"""Streebog on both paths (OpenSSL's GOST provider through ctypes, and gostcrypto) against the standard's
examples in the platform's byte order, and what a task says when only the slow path is there."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import streebog
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options import validation
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import UploadOptions

# GOST R 34.11-2012 (RFC 6986) M1 and M2 in the platform's byte order (shared with the sandbox's tests).
with open(os.path.join(os.path.dirname(__file__), "streebog_vectors.json")) as _stream:
    _DOC = json.load(_stream)
MESSAGES = {name: bytes.fromhex(value) for name, value in _DOC["messages"].items()}
M1 = MESSAGES["M1"]
VECTORS = [(MESSAGES[name], algo, digest) for name, algo, digest in _DOC["digests"]]
PROVIDER_ON_DISK = any(os.path.isfile(os.path.join(d, "gostprov.so")) for d in streebog._MODULE_DIRS)
needs_provider = pytest.mark.skipif(not PROVIDER_ON_DISK, reason="libengine-gost-openssl is not installed")


def _pieces(data: bytes):
    """The message as the hashers get it: memoryview slices of a pooled bytearray, bytes and a read-only view."""
    pool = bytearray(data)
    return [memoryview(pool)[:7], bytes(data[7:20]), memoryview(data[20:41]), memoryview(pool)[41:]]


@pytest.mark.parametrize("using", [pytest.param(streebog.OPENSSL, marks=needs_provider), streebog.GOSTCRYPTO])
@pytest.mark.parametrize("message,algo,expected", VECTORS, ids=["M1-256", "M1-512", "M2-256", "M2-512"])
def test_both_paths_give_the_standards_digests_in_the_platforms_byte_order(using, message, algo, expected):
    whole = streebog.new(algo, using)
    whole.update(message)
    pieces = streebog.new(algo, using)
    for piece in _pieces(message):
        pieces.update(piece)
    assert whole.hexdigest() == pieces.hexdigest() == expected
    assert pieces.hexdigest() == expected  # reading the digest does not end the hash


@needs_provider
def test_the_provider_loads_without_openssl_conf_from_the_usual_folders():
    """A fresh process whose OpenSSL config and module folder point nowhere still finds gostprov: the provider is
    loaded by name into a library context of our own, trying the folders libcrypto and distributions use."""
    script = ("import importlib.util, json, sys; spec = importlib.util.spec_from_file_location('s', sys.argv[1]); "
              "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); h = m.new('streebog256'); "
              "h.update(b'%s'); print(json.dumps([m.backend(), h.hexdigest()]))" % M1.decode())
    env = dict(os.environ, OPENSSL_CONF="/nonexistent/openssl.cnf", OPENSSL_MODULES="/nonexistent")
    out = subprocess.run([sys.executable, "-c", script, streebog.__file__], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == [streebog.OPENSSL, VECTORS[0][2]]


@needs_provider
def test_the_provider_leaves_the_processes_own_openssl_alone():
    """Loading gostprov into its own library context must not leave errors that ssl would report as its own, nor
    add GOST to what hashlib offers."""
    import hashlib
    import ssl
    assert streebog.native_problem() == ""
    assert "md_gost12_256" not in hashlib.algorithms_available
    ssl.create_default_context()  # would raise on a stale error in the queue


def test_without_the_provider_a_task_warns_naming_the_package_and_the_speed(monkeypatch, tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(b"x")
    seen = []
    monkeypatch.setattr(validation, "warn", seen.append)
    monkeypatch.setattr(streebog, "backend", lambda: streebog.GOSTCRYPTO)
    validation.validate_upload(UploadOptions.from_params({"path": str(disk), "checksum": {"streebog256": "a" * 64}}))
    assert len(seen) == 1 and "checksum.streebog*" in seen[0] and "libengine-gost-openssl" in seen[0]
    assert "80 KiB/s" in seen[0]


def test_with_neither_path_the_task_stops_naming_both(monkeypatch, tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(b"x")
    monkeypatch.setattr(streebog, "backend", lambda: "")
    with pytest.raises(ValidationError) as failed:
        validation.validate_upload(UploadOptions.from_params({"path": str(disk),
                                                              "checksum": {"streebog512": "a" * 128}}))
    assert "checksum.streebog*" in failed.value.msg and "libengine-gost-openssl" in failed.value.msg
    assert "gostcrypto" in failed.value.msg


@needs_provider
def test_with_the_provider_there_is_no_warning(monkeypatch, tmp_path):
    disk = tmp_path / "d.img"
    disk.write_bytes(b"x")
    seen = []
    monkeypatch.setattr(validation, "warn", seen.append)
    validation.validate_upload(UploadOptions.from_params({"path": str(disk), "checksum": {"streebog256": "a" * 64}}))
    assert seen == []
