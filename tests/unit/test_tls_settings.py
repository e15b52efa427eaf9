"""A wrong STOCKY_TLS_CERT or STOCKY_TLS_KEY stops the start with one
sentence naming the setting, not a traceback."""

from __future__ import annotations

import pytest

from stocky.cli import run_guarded
from stocky.core.tls import ensure_box_certificate, server_context


def _serve_with(cert, key):
    def action(_args):
        server_context(cert, key)

    run_guarded(action, None)


@pytest.mark.parametrize("problem", ["missing", "not PEM", "another key"])
def test_a_certificate_that_cannot_be_used_is_one_sentence(tmp_path, capsys, problem):
    made = ensure_box_certificate(tmp_path / "tls", ["localhost"])
    cert, key = made.cert, made.key
    if problem == "missing":
        cert = tmp_path / "nowhere.pem"
    elif problem == "not PEM":
        key.write_text("not a key\n")
    else:
        key = ensure_box_certificate(tmp_path / "other", ["localhost"]).key
    with pytest.raises(SystemExit) as ended:
        _serve_with(cert, key)
    assert ended.value.code == 1
    said = capsys.readouterr().err
    assert said.startswith("stocky: Stocky cannot serve HTTPS with STOCKY_TLS_CERT=") and "Unset both" in said
    assert "Traceback" not in said and said.count("\n") == 1


def test_a_good_certificate_loads(tmp_path):
    made = ensure_box_certificate(tmp_path / "tls", ["localhost"])
    assert server_context(made.cert, made.key) is not None
