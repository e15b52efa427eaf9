"""HTTPS served by Stocky itself. Browsers give a page the camera, service
workers and the Clipboard only in a secure context, so a phone scanning with
its camera needs https:// on the home network.

``stocky tls`` makes a self-signed certificate naming this box (host name,
``.local`` name, ``localhost`` and every address it has); each phone accepts
it once. ``STOCKY_TLS_CERT`` and ``STOCKY_TLS_KEY`` point Stocky at it, or at
a certificate from anywhere else.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stocky.core.errors import StockyError

# Browsers refuse server certificates valid for longer than 825 days.
VALID_DAYS = 825


@dataclass(frozen=True)
class Made:
    cert: Path
    key: Path
    names: list[str]
    fingerprint: str  # SHA-256, as browsers show it


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The TLS setup for ``cert`` and ``key``; a file that is missing or not
    a matching PEM certificate and key is refused with a sentence, not a
    traceback (``StockyError``)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except OSError as error:  # ssl.SSLError too
        why = (
            "they are not a PEM certificate and the private key that belongs to it"
            if isinstance(error, ssl.SSLError) else error.strerror
        )
        raise StockyError(
            f"Stocky cannot serve HTTPS with STOCKY_TLS_CERT={cert} and STOCKY_TLS_KEY={key}: "
            f"{why}. Make a certificate with 'stocky tls', or unset both to serve plain HTTP."
        ) from None
    return context


def box_names() -> list[str]:
    """The names and addresses a browser on the home network may use."""
    host = socket.gethostname()
    names = [host, f"{host}.local", "localhost", "127.0.0.1", "::1"]
    try:
        for info in socket.getaddrinfo(host, None):
            names.append(str(info[4][0]))
    except OSError:
        pass
    # The address of the interface that would carry traffic out: no packet is sent.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            names.append(probe.getsockname()[0])
    except OSError:
        pass
    return list(dict.fromkeys(name for name in names if name and not name.startswith("fe80")))


def make_self_signed(directory: Path, names: list[str]) -> Made:
    """A new key and certificate for ``names`` in ``directory`` (key mode 0600)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Stocky on {names[0]}"[:64])])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "stocky-cert.pem", directory / "stocky-key.pem"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    return Made(cert_path, key_path, names, fingerprint)
