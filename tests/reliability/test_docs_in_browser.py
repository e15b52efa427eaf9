"""The docs page in a real browser (headless Chromium), under the
Content-Security-Policy Stocky sends with it: no inline script may run, so
Swagger UI must start from a served file."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from reliability_support import in_process_stocky


@pytest.mark.timeout(120)
async def test_the_docs_page_works_in_a_browser_under_its_content_security_policy(
    clean_env, tmp_path
):
    """Swagger UI starts from a served script (no inline one) and draws every
    operation; the browser reports no blocked script or style."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no Chromium here (Debian package chromium)")
    async with in_process_stocky(tmp_path / "data") as runtime:
        url = f"http://127.0.0.1:{runtime.bound_port}/api/v1/docs"
        process = await asyncio.create_subprocess_exec(
            browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=8000", "--enable-logging=stderr", "--v=0", "--dump-dom", url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        dom, log = await asyncio.wait_for(process.communicate(), 100)
    page = dom.decode("utf-8", "replace")
    assert page.count('class="opblock-summary') >= 40, page[:2000]  # one per operation
    blocked = [line for line in log.decode("utf-8", "replace").splitlines() if "Content Security Policy" in line]
    assert blocked == []
