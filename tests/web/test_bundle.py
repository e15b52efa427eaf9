"""The bundle Stocky serves (stocky/web_dist) is exactly what the source in
stocky_web/ builds, fits the first-load budget, and the client's own unit
tests (Vitest) pass. The Node.js parts run where ``npm ci`` has been run in
stocky_web/ (CI does); elsewhere they skip and say so."""

from __future__ import annotations

import filecmp
import gzip
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stocky.api.web import WEB_DIST
from tests.bench.web_first_load import BUDGET_KB, sizes

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "stocky_web"

needs_node = pytest.mark.skipif(
    shutil.which("npm") is None or not (SOURCE / "node_modules").is_dir(),
    reason="Node.js packages not installed: run `npm ci` in stocky_web/",
)


def npm(*args: str) -> str:
    # Plain text: under CI=true Vitest colours its summary unless told not to.
    environment = {**os.environ, "NO_COLOR": "1"}
    environment.pop("FORCE_COLOR", None)
    done = subprocess.run(["npm", *args], cwd=SOURCE, capture_output=True, text=True, timeout=180, env=environment)
    assert done.returncode == 0, f"npm {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def files(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()}


@needs_node
def test_the_client_unit_tests_pass():
    output = npm("test", "--", "--reporter=dot")
    assert re.search(r"Tests\s+\d+ passed", output), output


@needs_node
def test_the_served_bundle_is_built_from_this_source(tmp_path):
    built = tmp_path / "web_dist"
    npm("run", "build", "--", "--outDir", str(built), "--emptyOutDir")
    advice = "stocky/web_dist is out of date: run `npm run build` in stocky_web/ and commit it"
    assert files(built) == files(WEB_DIST), advice
    _, mismatch, errors = filecmp.cmpfiles(built, WEB_DIST, sorted(files(built)), shallow=False)
    assert not mismatch and not errors, f"{advice}: {mismatch + errors}"


def test_every_compressed_copy_is_its_file():
    copies = sorted(WEB_DIST.rglob("*.gz"))
    assert copies, "no precompressed assets in stocky/web_dist"
    for copy in copies:
        assert gzip.decompress(copy.read_bytes()) == copy.with_suffix("").read_bytes(), copy


def test_the_first_load_fits_in_150_kb():
    loaded, _ = sizes()
    assert any(name.endswith(".js") for name in loaded) and any(name.endswith(".css") for name in loaded)
    assert sum(loaded.values()) <= BUDGET_KB * 1024, loaded
