"""HTTPS served by Stocky itself, by default. Browsers give a page the camera
and service workers (the shopping list offline) only in a secure context, so
a phone on the home network needs https://.

At its first start Stocky makes a small certificate authority of its own in
``<data dir>/tls/`` (``ca.pem``; its key ``ca-key.pem``, mode 0600) and a
server certificate it signs. A phone installs the CA once (``/connect``
says how). The CA is **name-constrained**: it can vouch only for this box's
own names and addresses (its host name, ``<host>.local``, ``localhost`` and
the addresses it had when the CA was made), so a phone that trusts it
trusts nothing else, whatever happens to the box's key. The server
certificate (``CA:FALSE``) names those of the box's current names the CA may
vouch for; it is made again before it expires and when the box's names or
addresses change.

``STOCKY_TLS_CERT`` and ``STOCKY_TLS_KEY`` serve a certificate from
elsewhere instead.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from stocky.core.errors import StockyError

CA_DAYS = 10 * 365
# Apple's devices refuse server certificates valid for longer than 825 days;
# a year and a month is what public CAs give, and Stocky renews by itself.
LEAF_DAYS = 397
RENEW_BEFORE = timedelta(days=30)
CA_FILE, CA_KEY_FILE = "ca.pem", "ca-key.pem"
CERT_FILE, KEY_FILE = "stocky-cert.pem", "stocky-key.pem"


@dataclass(frozen=True)
class BoxCertificate:
    """This box's HTTPS: the CA a phone installs and the server certificate."""

    ca: Path
    cert: Path
    key: Path
    names: tuple[str, ...]  # what the server certificate names
    fingerprint: str  # the CA's SHA-256, as phones show it
    made: bool = False  # the server certificate was (re)made just now


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The TLS setup for ``cert`` and ``key``; a file that is missing or not
    a matching PEM certificate and key is refused with a sentence, not a
    traceback (``StockyError``)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    load(context, cert, key)
    return context


def load(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    """Put ``cert`` and ``key`` into ``context``: a live server's next
    connections get them (a renewed certificate needs no restart)."""
    try:
        context.load_cert_chain(cert, key)
    except OSError as error:  # ssl.SSLError too
        why = (
            "they are not a PEM certificate and the private key that belongs to it"
            if isinstance(error, ssl.SSLError) else error.strerror
        )
        raise StockyError(
            f"Stocky cannot serve HTTPS with STOCKY_TLS_CERT={cert} and STOCKY_TLS_KEY={key}: "
            f"{why}. Unset both to serve HTTPS with Stocky's own certificate."
        ) from None


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


def ensure_box_certificate(directory: Path, names: list[str], now: datetime | None = None) -> BoxCertificate:
    """The box's CA (made once) and a server certificate for ``names`` (made
    again when missing, within 30 days of its end, or naming other names)."""
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca(directory, names, now)
    wanted = tuple(name for name in names if permits(ca_cert, name))
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    current = _read_cert(cert_path)
    fresh = (
        current is not None and key_path.exists()
        and current.issuer == ca_cert.subject
        and current.not_valid_after_utc - RENEW_BEFORE > now
        and set(_names(current)) == set(wanted)
    )
    if not fresh:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            _builder(f"Stocky on {wanted[0] if wanted else 'this box'}", ca_cert.subject, key, now, LEAF_DAYS)
            .add_extension(x509.SubjectAlternativeName([_general_name(name) for name in wanted]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=False, content_commitment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(key_path, key)
        # The chain a browser needs: the server certificate, then the CA.
        _write_atomically(cert_path, _pem(cert) + _pem(ca_cert))
    return BoxCertificate(directory / CA_FILE, cert_path, key_path, wanted, fingerprint(ca_cert), not fresh)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def permits(ca_cert: x509.Certificate, name: str) -> bool:
    """May the CA vouch for ``name`` (its name constraints)?"""
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        wanted = name.lower().rstrip(".")
        return any(
            isinstance(subtree, x509.DNSName)
            and (wanted == subtree.value.lower() or wanted.endswith("." + subtree.value.lower()))
            for subtree in constraints.permitted_subtrees or ()
        )
    return any(
        isinstance(subtree, x509.IPAddress) and address in subtree.value
        for subtree in constraints.permitted_subtrees or ()
    )


def _ca(directory: Path, names: list[str], now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The CA of ``directory``, made for ``names`` if there is none (or the
    one there cannot vouch for the box's host name any more: it was renamed)."""
    ca_path, ca_key_path = directory / CA_FILE, directory / CA_KEY_FILE
    ca_cert = _read_cert(ca_path)
    if ca_cert is not None and ca_key_path.exists() and all(
            permits(ca_cert, name) for name in names if not _is_address(name)):
        key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        return key, ca_cert  # type: ignore[return-value]
    key = ec.generate_private_key(ec.SECP256R1())
    permitted = [_subtree(name) for name in names]
    ca_cert = (
        _builder(f"Stocky on {names[0] if names else 'this box'} (home CA)", None, key, now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, key_encipherment=False, content_commitment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(ca_key_path, key)
    _write_atomically(ca_path, _pem(ca_cert))
    (directory / CERT_FILE).unlink(missing_ok=True)  # signed by the old CA
    return key, ca_cert


def _builder(common_name: str, issuer: x509.Name | None, key: ec.EllipticCurvePrivateKey,
             now: datetime, days: int) -> x509.CertificateBuilder:
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Stocky"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
    ])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
    )


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _subtree(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_network(name))  # one address: a /32 or /128
    except ValueError:
        return x509.DNSName(name)


def _names(cert: x509.Certificate) -> list[str]:
    try:
        alternatives = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [*alternatives.get_values_for_type(x509.DNSName),
            *(str(address) for address in alternatives.get_values_for_type(x509.IPAddress))]


def _read_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_atomically(path, data, mode=0o600)


def _write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Whole or not at all: a power cut never leaves half a key."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, mode)
    os.replace(temporary, path)
