"""HTTPS built in: ``stocky tls`` makes a certificate for this box, and
Stocky serves the API and StockyWeb over it with the sign-in cookie marked
Secure."""

from __future__ import annotations

import ssl

import aiohttp
from cryptography import x509

from stocky.cli import main
from stocky.core.settings import Settings
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM


async def test_stocky_tls_then_https_serves_the_app_and_a_secure_cookie(tmp_path, capsys):
    main(["tls", "--dir", str(tmp_path / "tls"), "--name", "pantry.example"])
    printed = capsys.readouterr().out
    cert, key = tmp_path / "tls" / "stocky-cert.pem", tmp_path / "tls" / "stocky-key.pem"
    assert f"STOCKY_TLS_CERT={cert}" in printed and f"STOCKY_TLS_KEY={key}" in printed
    assert key.stat().st_mode & 0o077 == 0
    names = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert "pantry.example" in names.get_values_for_type(x509.DNSName)
    assert "localhost" in names.get_values_for_type(x509.DNSName)

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", tls_cert=cert, tls_key=key,
                        uda_api_url="http://127.0.0.1:9/{upc}", mqtt_url=None)
    runtime = Runtime(settings, host="127.0.0.1", port=0, hid=False)
    await runtime.start()
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        base = f"https://localhost:{runtime.bound_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/shopping", ssl=trust) as page:
                assert page.status == 200 and "text/html" in page.headers["Content-Type"]
                assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
            async with http.post(f"{base}/api/v1/auth/session", ssl=trust,
                                 json={"username": "nobody", "password": "x"}) as refused:
                assert refused.status == 401
                # Every HTTPS answer, errors and the API included, keeps the browser on HTTPS.
                assert refused.headers["Strict-Transport-Security"] == "max-age=31536000"
            async with http.get(f"{base}/api/v1/nothing-here", ssl=trust) as missing:
                assert missing.status == 404 and "Strict-Transport-Security" in missing.headers
        await runtime.services.users.create({"username": "ann", "role": "Member", "password": "ann-Secret-1"}, SYSTEM)
        async with aiohttp.ClientSession() as http, http.post(
            f"{base}/api/v1/auth/session", ssl=trust, json={"username": "ann", "password": "ann-Secret-1"}
        ) as signed_in:
            assert signed_in.status == 200
            assert "secure" in signed_in.headers["Set-Cookie"].lower()
    finally:
        await runtime.stop()
