# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Streebog (GOST R 34.11-2012) at native speed when OpenSSL 3's GOST provider loads, else in pure Python.

Why ctypes into libcrypto: hashlib only sees the providers of OpenSSL's default library context, which come
from a config file (``OPENSSL_CONF``) that we must not ask users to write; the ``cryptography`` package loads
no third-party provider portably. So this file opens libcrypto, loads the provider ``gostprov`` (Debian,
Ubuntu and Astra package it as ``libengine-gost-openssl``) into a library context of its own, which leaves the
process's default context (hashlib's and ssl's) untouched and reads no config file, and streams buffers
through ``EVP_DigestUpdate``. ctypes releases the GIL during every foreign call, so a hashing thread runs beside
the socket send as hashlib's threads do (about 90 MB/s against gostcrypto's 80 KiB/s).

Byte order: the digest is printed as the platform's Go library (go.cypherpunks.ru/gogost/v5, ``hex(h.Sum(nil))``)
prints it; OpenSSL's provider and gostcrypto print the same (the standard's example M1, the 63 bytes
"0123456789012...", gives 9d151eef...5500 for 256 bits).

A leaf: it imports nothing of the collection, so the sandbox loads this very file to verify what it receives.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Any, List, Optional

PACKAGE = "libengine-gost-openssl"   # the Debian/Ubuntu/Astra package holding OpenSSL 3's GOST provider
PROVIDER = "gostprov"
FALLBACK_SPEED = "about 80 KiB/s (a 1 GiB file takes about 4 hours)"
NATIVE_SPEED = "about 90 MB/s"
OPENSSL = "openssl"
GOSTCRYPTO = "gostcrypto"
_DIGESTS = {"streebog256": (b"md_gost12_256", 32), "streebog512": (b"md_gost12_512", 64)}
_MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/ossl-modules", "/usr/lib/aarch64-linux-gnu/ossl-modules",
                "/usr/lib64/ossl-modules", "/usr/lib/ossl-modules", "/usr/local/lib64/ossl-modules",
                "/usr/local/lib/ossl-modules")


class Unavailable(Exception):
    """The asked backend cannot hash here; ``str()`` says why."""


class _Native:
    """libcrypto, a library context holding the GOST provider, and its two digests (loaded once)."""

    def __init__(self) -> None:
        self.lib, path = _open_libcrypto()
        self._declare()
        self.ctx = self.lib.OSSL_LIB_CTX_new()
        if not self.ctx:
            raise Unavailable("OSSL_LIB_CTX_new failed")
        self._load_provider(path)
        self.digests = {}
        for algo, (name, size) in _DIGESTS.items():
            md = self.lib.EVP_MD_fetch(self.ctx, name, None)
            if not md:
                self.lib.ERR_clear_error()
                raise Unavailable("the GOST provider has no digest %s" % name.decode())
            self.digests[algo] = (md, size)

    def _declare(self) -> None:
        lib = self.lib
        void_p, c_int, c_size = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
        for name, restype, argtypes in (
                ("OSSL_LIB_CTX_new", void_p, []),
                ("OSSL_PROVIDER_set_default_search_path", c_int, [void_p, ctypes.c_char_p]),
                ("OSSL_PROVIDER_load", void_p, [void_p, ctypes.c_char_p]),
                ("EVP_MD_fetch", void_p, [void_p, ctypes.c_char_p, ctypes.c_char_p]),
                ("EVP_MD_CTX_new", void_p, []),
                ("EVP_MD_CTX_free", None, [void_p]),
                ("EVP_MD_CTX_copy_ex", c_int, [void_p, void_p]),
                ("EVP_DigestInit_ex", c_int, [void_p, void_p, void_p]),
                ("EVP_DigestUpdate", c_int, [void_p, void_p, c_size]),
                ("EVP_DigestFinal_ex", c_int, [void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint)]),
                ("ERR_clear_error", None, [])):
            try:
                function = getattr(lib, name)
            except AttributeError:
                raise Unavailable("libcrypto has no %s (OpenSSL 3 is needed)" % name)
            function.restype, function.argtypes = restype, argtypes

    def _load_provider(self, libcrypto: str) -> None:
        """The default search path first (``OPENSSL_MODULES`` or the one libcrypto was built with), then the
        usual module folders and the one beside libcrypto, for a Python whose libcrypto is not the system's."""
        if self.lib.OSSL_PROVIDER_load(self.ctx, PROVIDER.encode()):
            return
        self.lib.ERR_clear_error()  # a failed load leaves errors that ssl would otherwise report as its own
        beside = os.path.join(os.path.dirname(libcrypto), "ossl-modules") if os.path.isabs(libcrypto) else ""
        for folder in [beside] + list(_MODULE_DIRS):
            if folder and os.path.isfile(os.path.join(folder, PROVIDER + ".so")):
                self.lib.OSSL_PROVIDER_set_default_search_path(self.ctx, folder.encode())
                if self.lib.OSSL_PROVIDER_load(self.ctx, PROVIDER.encode()):
                    return
                self.lib.ERR_clear_error()
        raise Unavailable("OpenSSL's GOST provider (%s) is not installed" % PROVIDER)


def _open_libcrypto() -> Any:
    """(library, path): the libcrypto this process already has mapped (the one ssl uses), else the system's."""
    candidates: List[str] = []
    try:
        import _hashlib  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import  # maps libcrypto
        with open("/proc/self/maps") as maps:
            candidates.extend(sorted({line.split()[-1] for line in maps
                                      if "/libcrypto.so.3" in line and line.rstrip().endswith(".so.3")}))
    except (ImportError, OSError):
        pass
    candidates.extend(name for name in ("libcrypto.so.3", ctypes.util.find_library("crypto"), "libcrypto.3.dylib")
                      if name)
    for name in candidates:
        try:
            return ctypes.CDLL(name), name
        except OSError:
            continue
    raise Unavailable("no OpenSSL 3 libcrypto found")


class _NativeHash:
    """One running digest in the GOST provider; ``update`` takes any bytes-like object without copying it
    (read-only buffers other than bytes are copied once)."""

    def __init__(self, native: _Native, algo: str) -> None:
        self.name = algo
        self._lib = native.lib
        md, self.digest_size = native.digests[algo]
        self._ctx = self._lib.EVP_MD_CTX_new()
        if not self._ctx or not self._lib.EVP_DigestInit_ex(self._ctx, md, None):
            raise Unavailable("EVP_DigestInit_ex failed for %s" % algo)

    def update(self, data: Any) -> None:
        """Feed ``data`` (the GIL is released while OpenSSL hashes it)."""
        if isinstance(data, bytes):
            pointer, length = data, len(data)
        else:
            view = memoryview(data).cast("B")
            length = len(view)
            if not length:
                return
            pointer = bytes(view) if view.readonly else (ctypes.c_char * length).from_buffer(view)
        if not self._lib.EVP_DigestUpdate(self._ctx, pointer, length):
            raise ValueError("EVP_DigestUpdate failed")

    def digest(self) -> bytes:
        """The digest so far (the running state is kept: hashing may go on)."""
        copy = self._lib.EVP_MD_CTX_new()
        try:
            out = ctypes.create_string_buffer(self.digest_size)
            size = ctypes.c_uint(0)
            if not self._lib.EVP_MD_CTX_copy_ex(copy, self._ctx) or \
                    not self._lib.EVP_DigestFinal_ex(copy, out, ctypes.byref(size)):
                raise ValueError("EVP_DigestFinal_ex failed")
            return out.raw[:size.value]
        finally:
            self._lib.EVP_MD_CTX_free(copy)

    def hexdigest(self) -> str:
        """The digest in lower-case hex."""
        return self.digest().hex()

    def __del__(self) -> None:
        ctx, self._ctx = getattr(self, "_ctx", None), None
        if ctx:
            self._lib.EVP_MD_CTX_free(ctx)


class _PureHash:
    """gostcrypto's hash, which accepts only bytes/bytearray: views are copied for it."""

    def __init__(self, algo: str) -> None:
        import gostcrypto.gosthash  # pylint: disable=import-outside-toplevel  # ~0.1 s: only when it is used
        self.name = algo
        self._inner = gostcrypto.gosthash.new(algo)

    def update(self, data: Any) -> None:
        """Feed ``data``."""
        self._inner.update(data if isinstance(data, (bytes, bytearray)) else bytes(data))

    def digest(self) -> bytes:
        """The digest so far."""
        return bytes(self._inner.digest())

    def hexdigest(self) -> str:
        """The digest in lower-case hex."""
        return self._inner.hexdigest().lower()


_lock = threading.Lock()
_native: Optional[_Native] = None
_native_error: Optional[str] = None


def native_problem() -> str:
    """"" when the GOST provider is loaded (loading it on the first call), else why it cannot be."""
    global _native, _native_error  # pylint: disable=global-statement  # one provider per process
    with _lock:
        if _native is None and _native_error is None:
            try:
                _native = _Native()
            except Unavailable as exc:
                _native_error = str(exc)
            except (OSError, AttributeError, ValueError) as exc:
                _native_error = "libcrypto could not be used: %s" % exc
        return _native_error or ""


def has_gostcrypto() -> bool:
    """The pure-Python library is installed (checked without importing it)."""
    import importlib.util  # pylint: disable=import-outside-toplevel
    return importlib.util.find_spec("gostcrypto") is not None


def backend() -> str:
    """OPENSSL when the GOST provider loads, else GOSTCRYPTO when it is installed, else ""."""
    if not native_problem():
        return OPENSSL
    return GOSTCRYPTO if has_gostcrypto() else ""


def new(algo: str, using: Optional[str] = None) -> Any:
    """A hash object (``update``, ``digest``, ``hexdigest``) for streebog256 or streebog512, by ``backend()``
    unless ``using`` names one (tests cross-check both); Unavailable when it cannot hash here."""
    if algo not in _DIGESTS:
        raise ValueError("not a streebog algorithm: %s" % algo)
    using = using or backend()
    if using == OPENSSL:
        problem = native_problem()
        if problem or _native is None:
            raise Unavailable(problem)
        return _NativeHash(_native, algo)
    if using == GOSTCRYPTO and has_gostcrypto():
        return _PureHash(algo)
    raise Unavailable("streebog needs OpenSSL's GOST provider (package %s) or the Python library gostcrypto"
                      % PACKAGE)
