"""The box's own HTTPS: a name-constrained CA made once, and a server
certificate it signs, renewed before its end and when the box's names
change. Checked with OpenSSL's own verifier (Python's ssl), which applies a
trust anchor's name constraints as phones do."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from stocky.core.tls import CA_KEY_FILE, LEAF_DAYS, ensure_box_certificate, server_context

NAMES = ["pantry", "pantry.local", "localhost", "127.0.0.1", "::1"]


async def _handshake(cert, key, ca, server_name: str) -> None:
    """A TLS handshake on loopback, the client trusting only ``ca``."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0,
                                        ssl=server_context(cert, key))
    port = server.sockets[0].getsockname()[1]
    trust = ssl.create_default_context(cafile=str(ca))
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=trust, server_hostname=server_name)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_the_ca_is_constrained_to_the_box_and_the_server_certificate_is_no_ca(tmp_path):
    box = ensure_box_certificate(tmp_path, NAMES)
    ca = x509.load_pem_x509_certificate(box.ca.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = {str(s.value) for s in constraints.value.permitted_subtrees}
    assert permitted == {"pantry", "pantry.local", "localhost", "127.0.0.1/32", "::1/128"}
    leaf = x509.load_pem_x509_certificate(box.cert.read_bytes())
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.issuer == ca.subject
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= LEAF_DAYS
    assert (tmp_path / CA_KEY_FILE).stat().st_mode & 0o077 == 0
    assert box.key.stat().st_mode & 0o077 == 0
    assert box.fingerprint == ca.fingerprint(hashes.SHA256()).hex(":").upper()


@pytest.mark.parametrize("name", ["localhost", "pantry.local"])
async def test_a_client_trusting_the_ca_verifies_the_box(tmp_path, name):
    box = ensure_box_certificate(tmp_path, NAMES)
    await _handshake(box.cert, box.key, box.ca, name)


async def test_the_ca_cannot_vouch_for_another_site_even_with_its_own_key(tmp_path):
    """What a stolen CA key could sign: a certificate for a bank. A client
    that trusts the box's CA refuses it (the name constraints)."""
    box = ensure_box_certificate(tmp_path, NAMES)
    ca = x509.load_pem_x509_certificate(box.ca.read_bytes())
    ca_key = serialization.load_pem_private_key((tmp_path / CA_KEY_FILE).read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    rogue = (
        x509.CertificateBuilder().subject_name(x509.Name([]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("bank.example")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert, key_path = tmp_path / "rogue.pem", tmp_path / "rogue-key.pem"
    cert.write_bytes(rogue.public_bytes(serialization.Encoding.PEM) + box.ca.read_bytes())
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    with pytest.raises(ssl.SSLCertVerificationError, match="(?i)name constraint|permitted"):
        await _handshake(cert, key_path, box.ca, "bank.example")


def test_the_server_certificate_is_kept_renewed_near_its_end_and_on_new_names(tmp_path):
    first = ensure_box_certificate(tmp_path, NAMES)
    assert first.made
    again = ensure_box_certificate(tmp_path, NAMES)
    assert not again.made and again.cert.read_bytes() == first.cert.read_bytes()

    # An address this CA was made with went away: the certificate names the rest.
    fewer = ensure_box_certificate(tmp_path, [n for n in NAMES if n != "::1"])
    assert fewer.made and "::1" not in fewer.names
    # A new address the CA cannot vouch for is left out, not made up.
    moved = ensure_box_certificate(tmp_path, [*NAMES, "192.168.1.77"])
    assert "192.168.1.77" not in moved.names and moved.fingerprint == first.fingerprint

    later = datetime.now(UTC) + timedelta(days=LEAF_DAYS - 20)
    renewed = ensure_box_certificate(tmp_path, NAMES, now=later)
    assert renewed.made and renewed.fingerprint == first.fingerprint  # same CA: phones keep trusting


def test_a_renamed_box_gets_a_new_ca(tmp_path):
    first = ensure_box_certificate(tmp_path, NAMES)
    renamed = ensure_box_certificate(tmp_path, ["larder", "larder.local", "localhost", "127.0.0.1"])
    assert renamed.fingerprint != first.fingerprint
    assert "larder.local" in renamed.names
