"""HTTPS by default: at its first start Stocky makes its own certificate
authority and serves the API and StockyWeb on its HTTPS port beside HTTP,
with the sign-in cookie marked Secure and HSTS on every answer; /ca.pem and
/connect help a phone trust it. A certificate from elsewhere
(STOCKY_TLS_CERT, STOCKY_TLS_KEY) is served instead when set."""

from __future__ import annotations

import socket
import ssl

import aiohttp
from cryptography import x509

from stocky.cli import main
from stocky.core.settings import Settings
from stocky.core.tls import ensure_box_certificate
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM

HSTS = "max-age=31536000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _settings(tmp_path, **extra) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", https_port=free_port(),
                    uda_api_url="http://127.0.0.1:9/{upc}", mqtt_url=None, **extra)


async def test_first_start_makes_a_ca_and_serves_https_beside_http(tmp_path):
    runtime = Runtime(_settings(tmp_path), host="127.0.0.1", port=0, hid=False)
    await runtime.start()
    try:
        ca = tmp_path / "data" / "tls" / "ca.pem"
        assert (tmp_path / "data" / "tls" / "ca-key.pem").stat().st_mode & 0o077 == 0
        trust = ssl.create_default_context(cafile=str(ca))  # as a phone with the CA installed
        base = f"https://localhost:{runtime.https.port}"
        plain = f"http://127.0.0.1:{runtime.bound_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/shopping", ssl=trust) as page:
                assert page.status == 200 and "text/html" in page.headers["Content-Type"]
                assert page.headers["Strict-Transport-Security"] == HSTS
            async with http.post(f"{base}/api/v1/auth/session", ssl=trust,
                                 json={"username": "nobody", "password": "x"}) as refused:
                assert refused.status == 401
                # Every HTTPS answer, errors and the API included, keeps the browser on HTTPS.
                assert refused.headers["Strict-Transport-Security"] == HSTS
            async with http.get(f"{plain}/ca.pem") as served:  # over plain HTTP: where a phone starts
                assert served.status == 200
                assert served.headers["Content-Type"] == "application/x-x509-ca-cert"
                assert await served.read() == ca.read_bytes()
                assert "Strict-Transport-Security" not in served.headers
            async with http.get(f"{plain}/connect") as connect:
                text = await connect.text()
                assert connect.status == 200
                # The fingerprint wraps only between bytes, at <wbr>.
                assert runtime.https.fingerprint in text.replace("<wbr>", "") and 'href="/ca.pem"' in text
                assert f"https://{socket.gethostname()}.local:{runtime.https.port}/" in text
        await runtime.services.users.create(
            {"username": "ann", "role": "Member", "password": "ann-Secret-1"}, SYSTEM)
        async with aiohttp.ClientSession() as http, http.post(
            f"{base}/api/v1/auth/session", ssl=trust, json={"username": "ann", "password": "ann-Secret-1"}
        ) as signed_in:
            assert signed_in.status == 200
            assert "secure" in signed_in.headers["Set-Cookie"].lower()
    finally:
        await runtime.stop()


async def test_the_same_ca_serves_on_after_a_restart(tmp_path):
    settings = _settings(tmp_path)
    fingerprints = []
    for _ in range(2):
        runtime = Runtime(settings, host="127.0.0.1", port=0, hid=False)
        await runtime.start()
        fingerprints.append(runtime.https.fingerprint)
        await runtime.stop()
    assert fingerprints[0] == fingerprints[1]  # phones keep trusting it


async def test_a_certificate_from_elsewhere_is_served_instead(tmp_path):
    other = ensure_box_certificate(tmp_path / "elsewhere", ["pantry.example", "localhost"])
    runtime = Runtime(_settings(tmp_path, tls_cert=other.cert, tls_key=other.key),
                      host="127.0.0.1", port=0, hid=False)
    await runtime.start()
    try:
        trust = ssl.create_default_context(cafile=str(other.ca))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"https://localhost:{runtime.https.port}/health", ssl=trust) as health:
                assert health.status == 200
            async with http.get(f"http://127.0.0.1:{runtime.bound_port}/ca.pem") as none:
                assert none.status == 404  # nothing of Stocky's own to install
        assert not (tmp_path / "data" / "tls").exists()
    finally:
        await runtime.stop()


def test_stocky_tls_shows_the_authority_and_its_fingerprint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STOCKY_DATA_DIR", str(tmp_path / "data"))
    main(["tls", "--name", "pantry.example"])
    printed = capsys.readouterr().out
    ca = x509.load_pem_x509_certificate((tmp_path / "data" / "tls" / "ca.pem").read_bytes())
    assert "SHA-256 fingerprint" in printed and str(tmp_path / "data" / "tls" / "ca.pem") in printed
    permitted = ca.extensions.get_extension_for_class(x509.NameConstraints).value.permitted_subtrees
    assert "pantry.example" in {str(name.value) for name in permitted}
