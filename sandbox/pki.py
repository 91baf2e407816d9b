"""The sandbox CA and the loopback server certificates every component serves with.

Made once and reused across starts, so a kubeconfig or a CA path handed to a user stays valid.
Leaf certificates cover 127.0.0.1, ::1 and localhost.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .config import State, atomic_write

_VALID = dt.timedelta(days=3650)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    atomic_write(path, pem, 0o600)


def ensure_ca(state: State) -> tuple[Path, Path]:
    """Create the CA on first use; return (cert path, key path)."""
    if state.ca_crt.exists() and state.ca_key.exists():
        return state.ca_crt, state.ca_key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dvp-sandbox-ca")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _VALID)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(state.ca_key, key)
    atomic_write(state.ca_crt, cert.public_bytes(serialization.Encoding.PEM))
    return state.ca_crt, state.ca_key


def ensure_leaf(state: State, name: str) -> tuple[Path, Path]:
    """A server cert `tls/<name>.crt` + key for loopback, signed by the sandbox CA."""
    crt_path, key_path = state.tls_dir / f"{name}.crt", state.tls_dir / f"{name}.key"
    if crt_path.exists() and key_path.exists():
        return crt_path, key_path
    ensure_ca(state)
    ca_key = serialization.load_pem_private_key(state.ca_key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(state.ca_crt.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    san = x509.SubjectAlternativeName([
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ])
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"dvp-sandbox-{name}")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _VALID)
            .add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
                           critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    _write_key(key_path, key)
    atomic_write(crt_path, cert.public_bytes(serialization.Encoding.PEM))
    return crt_path, key_path
