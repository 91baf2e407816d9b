"""A throwaway CA for one conformance run: the real server's serving cert and an admin client cert.

The client certificate's organisation is `system:masters`, which the real server (no RBAC objects,
no core API) authorises for everything. Keys never leave the run's state dir (mode 0600).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Pki:
    """Files: ca.crt, server.crt/key (127.0.0.1, localhost), admin.crt/key (O=system:masters)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.timezone.utc)
        self._before, self._after = now - dt.timedelta(minutes=5), now + dt.timedelta(days=2)
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self._ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conformance-ca")])
        ca = (x509.CertificateBuilder().subject_name(self._ca_name).issuer_name(self._ca_name)
              .public_key(self._ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(self._before).not_valid_after(self._after)
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .sign(self._ca_key, hashes.SHA256()))
        _write(self.ca_crt, ca.public_bytes(serialization.Encoding.PEM))
        self._leaf("server", [x509.NameAttribute(NameOID.COMMON_NAME, "realapi")], server=True)
        self._leaf("admin", [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "conformance-admin")], server=False)

    @property
    def ca_crt(self) -> Path:
        return self.root / "ca.crt"

    def crt(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key"

    def _leaf(self, name: str, subject: list[x509.NameAttribute], server: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(x509.Name(subject)).issuer_name(self._ca_name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(self._before).not_valid_after(self._after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                         else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        _write(self.crt(name), cert.public_bytes(serialization.Encoding.PEM))
        _write(self.key(name), _key_pem(key), 0o600)
