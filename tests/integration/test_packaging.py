"""Stocky as it is shipped: the wheel in a fresh virtual environment, the
container image's Qt-free environment and its health check, the appliance
installer, and requirements.txt against uv.lock.

These build and install for real (from uv's cache), so they take about a
minute together; every step has a time limit and all traffic stays on
127.0.0.1."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.env import TEST_ENV

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
INSTALL = PACKAGING / "install.sh"
DOCKERFILE = PACKAGING / "Dockerfile"
QT_PACKAGES = ("PySide6", "shiboken6", "qasync")
# Settings of the machine running the tests that must not reach a Stocky started here.
LEAKY = ("DATABASE_URL", "SECRET_KEY", "UDA_API_URL", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")


# --- helpers ------------------------------------------------------------------

def uv_binary() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("uv is missing; CI must have it", pytrace=False)
        pytest.skip("uv is not installed")
    return found


def base_python() -> str:
    """The interpreter behind this test run's virtual environment: uv's cache
    holds every dependency (evdev is built from source) for it."""
    return getattr(sys, "_base_executable", None) or sys.executable


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STOCKY_", "UV_PROJECT", "QT_")) and k not in LEAKY}
    env.update(TEST_ENV)
    env.update(extra)
    return env


def run(command: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, (
        f"{shlex.join(command)} exited {done.returncode}\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
        return json.loads(response.read())


class Running:
    def __init__(self, process: subprocess.Popen, port: int, log_dir: Path) -> None:
        self.process, self.port, self.log_dir = process, port, log_dir
        self.health: dict | None = None
        self.returncode: int | None = None

    @property
    def stdout(self) -> str:
        return (self.log_dir / "stdout").read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return (self.log_dir / "stderr").read_text(errors="replace")


@contextlib.contextmanager
def running_stocky(command: list[str], tmp: Path, *, env_extra: dict[str, str] | None = None,
                   python_bin: Path | None = None) -> Iterator[Running]:
    """Start ``command`` (a Stocky that listens), wait for /health, and on
    leaving stop it with SIGTERM as systemd and docker do."""
    port = free_port()
    data = tmp / "data"
    env = clean_env(STOCKY_DATA_DIR=str(data), UDA_API_URL="http://127.0.0.1:9/{upc}",
                    **(env_extra or {}))
    if python_bin is not None:  # the environment's own scripts first, as when activated
        env["PATH"] = f"{python_bin}{os.pathsep}{env.get('PATH', '')}"
    with open(tmp / "stdout", "w") as out, open(tmp / "stderr", "w") as err:
        process = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=tmp, env=env, stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL)
    running = Running(process, port, tmp)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                running.health = get_health(port)
                break
            except OSError:
                time.sleep(0.2)
        assert running.health is not None, f"no /health answer\n{running.stderr[-3000:]}"
        yield running
        process.send_signal(signal.SIGTERM)
        running.returncode = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def healthy(health: dict | None) -> bool:
    return bool(health) and health.get("status") == "ok"


def assert_clean_exit(running: Running) -> None:
    assert running.returncode == 0, running.stderr[-3000:]
    for crash in ("Traceback", "Fatal Python error", "Segmentation"):
        assert crash not in running.stderr


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3.*/site-packages")
    return found


# --- the wheel ----------------------------------------------------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([uv_binary(), "build", "--wheel", "--out-dir", str(out), str(REPO)], timeout=300,
        env=clean_env())
    (built,) = out.glob("stocky-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with nothing but the wheel and its
    dependencies (held to the locked versions)."""
    venv = tmp_path_factory.mktemp("wheel-venv") / "venv"
    uv = uv_binary()
    run([uv, "venv", "--quiet", "--python", base_python(), str(venv)], timeout=120, env=clean_env())
    run([uv, "pip", "install", "--python", str(venv / "bin/python"),
         "--constraint", str(REPO / "requirements.txt"), str(wheel)], timeout=600, env=clean_env())
    return venv


def test_wheel_holds_what_the_kiosk_and_the_migrations_read_at_run_time(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("resources/style.qss", "resources/__init__.py", "stocky/db/alembic/env.py",
                   "stocky/db/alembic/script.py.mako", "stocky_touch/app.py", "stocky/cli.py",
                   "stocky/web_dist/index.html", "stocky/web_dist/manifest.webmanifest"):
        assert needed in names
    for migration in (REPO / "stocky/db/alembic/versions").glob("*.py"):
        assert f"stocky/db/alembic/versions/{migration.name}" in names
    assert not [name for name in names if name.startswith("tests/") or "__pycache__" in name]
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "stocky = stocky.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_serves_health_and_stops_cleanly(wheel_venv, tmp_path):
    stocky = wheel_venv / "bin/stocky"
    done = run([str(stocky), "--help"], timeout=60, cwd=tmp_path, env=clean_env())
    assert "kiosk" in done.stdout and "serve" in done.stdout
    # The package in the environment, not the source tree, is what runs.
    where = run([str(wheel_venv / "bin/python"), "-c",
                 "import stocky, resources; print(stocky.__file__); print(resources.__file__)"],
                timeout=60, cwd=tmp_path, env=clean_env())
    assert all(line.startswith(str(site_packages(wheel_venv))) for line in where.stdout.split())

    with running_stocky([str(stocky), "serve"], tmp_path) as server:
        assert healthy(server.health)
        # StockyWeb comes in the wheel: no Node.js, no source tree.
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/shopping", timeout=10) as page:
            assert b'<div id="root">' in page.read()
    assert_clean_exit(server)
    assert (tmp_path / "data/stocky.db").is_file()  # migrations shipped in the wheel ran


def test_installed_wheel_runs_the_kiosk(wheel_venv, tmp_path):
    """The kiosk from the wheel: its style sheet and the migrations come from
    the installed package; it serves /health and stops cleanly on SIGTERM."""
    pytest.importorskip("PySide6")  # the Qt system libraries are there
    stocky = wheel_venv / "bin/stocky"
    with running_stocky([str(stocky), "kiosk", "--demo", "--windowed"], tmp_path,
                        env_extra={"QT_QPA_PLATFORM": "offscreen"}) as kiosk:
        assert healthy(kiosk.health)
    assert_clean_exit(kiosk)
    assert "QThread: Destroyed" not in kiosk.stderr


# --- the container image ------------------------------------------------------

def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments and
    parser directives left out."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") and not pending:
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line:
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[tuple[str, str]]) -> list[tuple[str | None, list[tuple[str, str]]]]:
    result: list[tuple[str | None, list[tuple[str, str]]]] = []
    for word, rest in instructions:
        if word == "FROM":
            match = re.fullmatch(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
            assert match, f"FROM {rest}"
            result.append((match[2], []))
        elif result:
            result[-1][1].append((word, rest))
    return result


def uv_sync_args() -> list[str]:
    (value,) = [rest for word, rest in dockerfile_instructions() if word == "ARG"
                and rest.startswith("UV_SYNC_ARGS=")]
    return shlex.split(shlex.split(value.partition("=")[2])[0])


def healthcheck_command() -> list[str]:
    (rest,) = [rest for word, rest in dockerfile_instructions() if word == "HEALTHCHECK"]
    return json.loads(rest.partition("CMD")[2])


def test_dockerfile_builds_a_qt_free_server_image_that_runs_as_a_user():
    instructions = dockerfile_instructions()
    known = {"FROM", "ARG", "RUN", "COPY", "ENV", "WORKDIR", "USER", "VOLUME", "EXPOSE",
             "HEALTHCHECK", "CMD", "LABEL", "ENTRYPOINT", "STOPSIGNAL"}
    assert {word for word, _ in instructions} <= known
    built = stages(instructions)
    assert len(built) >= 2, "multi-stage: build tools stay out of the image"
    names = {name for name, _ in built if name}
    for _, body in built:
        for word, rest in body:
            if word == "COPY" and (source := re.match(r"--from=(\S+)", rest)):
                assert source[1] in names, f"COPY --from={source[1]}: no such stage"
    args = uv_sync_args()
    assert {"--frozen", "--no-dev", "--no-editable"} <= set(args)
    excluded = {args[i + 1] for i, arg in enumerate(args) if arg == "--no-install-package"}
    assert {"pyside6-essentials", "shiboken6"} <= excluded

    _, final = built[-1]
    words = {word: rest for word, rest in final}
    user = words["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert words["EXPOSE"].split() == ["8000", "8443"]
    assert json.loads(words["VOLUME"]) == ["/data"]
    assert "STOCKY_DATA_DIR=/data" in words["ENV"].split()
    assert json.loads(words["CMD"]) == ["stocky", "serve"]
    runs = " ".join(rest for word, rest in final if word == "RUN")
    assert "gcc" not in runs and "uv " not in runs, "no compiler or uv in the final image"
    check = healthcheck_command()
    assert check[:2] == ["python", "-c"] and "/health" in check[2]


def test_docker_build_context_has_every_file_the_build_reads():
    """.dockerignore lets through only an allow list: it must cover what
    pyproject.toml builds the wheel from."""
    allowed = docker_context_allow_list()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = {"pyproject.toml", "uv.lock", project["project"]["readme"],
              *project["project"].get("license-files", []),
              *project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]}
    assert needed <= allowed
    assert all((REPO / name).exists() for name in allowed)


def docker_context_allow_list() -> set[str]:
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*", ".dockerignore starts by leaving everything out"
    return {line[1:].rstrip("/") for line in lines if line.startswith("!")}


@pytest.fixture(scope="module")
def docker_like_venv(tmp_path_factory) -> Path:
    """The environment the Dockerfile builds: `uv sync` with its arguments,
    in a build context holding only what .dockerignore lets through."""
    work = tmp_path_factory.mktemp("docker")
    context, venv = work / "src", work / "venv"
    context.mkdir()
    for name in docker_context_allow_list():
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, context / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))
        else:
            shutil.copy2(source, context / name)
    env = clean_env(UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON=base_python())
    assert env["UV_PROJECT_ENVIRONMENT"] == str(venv)  # never the project's own .venv
    run([uv_binary(), "sync", "--quiet", *uv_sync_args()], timeout=600, cwd=context, env=env)
    return venv


def test_docker_environment_has_no_qt_and_serves(docker_like_venv, tmp_path):
    packages = site_packages(docker_like_venv)
    assert not [p for p in ("PySide6", "shiboken6") if (packages / p).exists()]
    python = docker_like_venv / "bin/python"
    imports = run([str(python), "-c", "import psycopg, stocky.server"], timeout=60,
                  cwd=tmp_path, env=clean_env())
    assert imports.returncode == 0  # the PostgreSQL driver is in the image

    with running_stocky(["stocky", "serve"], tmp_path,
                        python_bin=docker_like_venv / "bin") as server:
        assert healthy(server.health)
        # The image's HEALTHCHECK, run by the image's python, passes...
        check = healthcheck_command()
        env = clean_env(STOCKY_PORT=str(server.port),
                        PATH=f"{docker_like_venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
        assert subprocess.run(check, env=env, timeout=30, capture_output=True).returncode == 0
    assert_clean_exit(server)
    assert "PySide6" not in server.stderr
    # ...and fails once Stocky is gone.
    assert subprocess.run(check, env=env, timeout=30, capture_output=True).returncode != 0


def test_server_commands_import_no_qt():
    """`stocky serve` and friends stay free of Qt, in any environment."""
    code = (
        "import sys\n"
        "import stocky.cli, stocky.server, stocky.runtime, stocky.inputs.bridge\n"
        "stocky.cli.build_parser()\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT_PACKAGES!r}))\n"
    )
    done = run([sys.executable, "-c", code], timeout=60, cwd=REPO, env=clean_env())
    assert done.stdout.strip() == "[]"


def test_compose_file_builds_the_image_and_keeps_data_in_a_volume():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((PACKAGING / "docker-compose.yml").read_text())
    (service,) = compose["services"].values()
    context = (PACKAGING / service["build"]["context"]).resolve()
    assert context == REPO
    assert (context / service["build"]["dockerfile"]).resolve() == DOCKERFILE
    (env_file,) = service["env_file"]
    assert (PACKAGING / env_file["path"]).resolve() == REPO / ".env"
    assert env_file["required"] is False
    assert service["environment"]["STOCKY_DATA_DIR"] == "/data"
    assert any(volume.split(":")[1] == "/data" for volume in service["volumes"])
    volume_name = service["volumes"][0].split(":")[0]
    assert volume_name in compose["volumes"]
    assert [port.split(":")[-1] for port in service["ports"]] == ["8000", "8443"]


def test_docker_compose_accepts_the_file():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True,
                                        timeout=30).returncode != 0:
        pytest.skip("no docker compose here")
    run([docker, "compose", "-f", str(PACKAGING / "docker-compose.yml"), "config", "--quiet"],
        timeout=60, env=clean_env())


# --- requirements.txt ---------------------------------------------------------

def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_requirements_txt_is_uv_lock_exported():
    """Regenerate with the command in its header after every change to uv.lock."""
    text = (REPO / "requirements.txt").read_text()
    (command,) = [line.strip("# ").strip() for line in text.splitlines()[:3]
                  if line.strip("# ").startswith("uv export")]
    args = shlex.split(command)[2:]
    assert {"--frozen", "--no-dev", "--no-emit-project"} <= set(args)
    exported = run([uv_binary(), "export", *args], timeout=120, cwd=REPO, env=clean_env())
    assert requirement_lines(text) == requirement_lines(exported.stdout), (
        f"requirements.txt and uv.lock differ: run `{command} > requirements.txt`"
    )


# --- the installer ------------------------------------------------------------

def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root: type, mode, link target or content hash."""
    tree = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        key = str(path.relative_to(root))
        if stat.S_ISLNK(info.st_mode):
            tree[key] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            tree[key] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            tree[key] = ("file", stat.S_IMODE(info.st_mode),
                         hashlib.sha256(path.read_bytes()).hexdigest())
    return tree


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["bash", str(INSTALL), "--root", str(root), "--python", base_python(), *args],
               timeout=600, env=clean_env())


def host_state() -> tuple:
    users = subprocess.run(["getent", "passwd", "stocky"], capture_output=True, text=True,
                           timeout=30).stdout
    return users, Path("/etc/stocky").exists(), Path("/opt/stocky").exists()


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, str, str, dict]:
    """An appliance tree installed twice from the wheel into a directory."""
    root = tmp_path_factory.mktemp("appliance") / "root"
    before = host_state()
    first = install(root, str(wheel))
    tree = snapshot(root)
    second = install(root, str(wheel))
    assert host_state() == before, "--root must not touch this machine"
    return root, first.stdout, second.stdout, tree


def test_installer_lays_out_the_appliance(installed):
    root, first, _, _ = installed
    etc = root / "etc"
    for name in ("stocky.service", "stocky-kiosk.service"):
        installed_unit = etc / "systemd/system" / name
        assert installed_unit.read_bytes() == (REPO / "systemd" / name).read_bytes()
    assert ((etc / "udev/rules.d/70-stocky-scanners.rules").read_bytes()
            == (REPO / "systemd/70-stocky-scanners.rules").read_bytes())
    assert (etc / "sysusers.d/stocky.conf").is_file() and (etc / "tmpfiles.d/stocky.conf").is_file()
    # The kiosk starts at boot; the headless service does not; tty1 is the kiosk's.
    wants = etc / "systemd/system/multi-user.target.wants"
    assert os.readlink(wants / "stocky-kiosk.service") == "/etc/systemd/system/stocky-kiosk.service"
    assert not (wants / "stocky.service").exists()
    assert not (etc / "systemd/system/stocky-kiosk.service.d").exists()
    # Settings from .env.example, pointed at the state directory, not world-readable.
    env_file = etc / "stocky/stocky.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o640
    settings = requirement_lines(env_file.read_text())
    assert "STOCKY_DATA_DIR=/var/lib/stocky" in settings
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line) for line in settings), settings
    example = requirement_lines((REPO / ".env.example").read_text())
    assert {line.split("=", 1)[0] for line in example} == {
        line.split("=", 1)[0] for line in settings}
    # No user was made here; the target makes it (at once, or at first boot).
    assert "would run on the target: systemd-sysusers /etc/sysusers.d/stocky.conf" in first
    # The environment works, and its scripts do not name the staging directory.
    venv = root / "opt/stocky/venv"
    assert "serve" in run([str(venv / "bin/stocky"), "--help"], timeout=60, env=clean_env()).stdout
    assert str(root) not in (venv / "bin/stocky").read_text()
    assert not [p for p in root.rglob("*") if p.is_relative_to(root / "var")]


def test_installer_run_twice_changes_nothing(installed):
    root, _, second, tree = installed
    assert snapshot(root) == tree
    assert "installed " not in second and "created " not in second
    assert "kept " in second and "unchanged: stocky-kiosk.service is enabled" in second


def test_installed_tree_boots(installed, tmp_path):
    """What the target does at boot: sysusers makes the user, tmpfiles the
    directories, and systemd accepts the units with the real environment."""
    sysusers, tmpfiles, analyze = (shutil.which(t) for t in
                                   ("systemd-sysusers", "systemd-tmpfiles", "systemd-analyze"))
    if not (sysusers and tmpfiles and analyze):
        if os.environ.get("CI") == "true":
            pytest.fail("systemd's tools are missing; CI must have them", pytrace=False)
        pytest.skip("systemd-sysusers, systemd-tmpfiles or systemd-analyze missing")
    root, _, _, _ = installed
    image = tmp_path / "image"
    shutil.copytree(root, image, symlinks=True)
    for name in ("passwd", "group", "shadow", "gshadow"):
        if Path("/etc", name).exists():
            shutil.copy(Path("/etc", name), image / "etc" / name)
    run([sysusers, f"--root={image}"], timeout=60)
    run([tmpfiles, f"--root={image}", "--create", "stocky.conf"], timeout=60)

    passwd, groups = ({line.split(":")[0]: line.split(":")
                       for line in (image / "etc" / name).read_text().splitlines()}
                      for name in ("passwd", "group"))
    uid, gid = int(passwd["stocky"][2]), int(passwd["stocky"][3])
    assert passwd["stocky"][5] == "/var/lib/stocky" and passwd["stocky"][6].endswith("nologin")
    for group in ("input", "video", "render"):
        assert "stocky" in groups[group][3].split(",")
    state = (image / "var/lib/stocky").stat()
    assert (state.st_uid, state.st_gid, stat.S_IMODE(state.st_mode)) == (uid, gid, 0o750)
    assert os.readlink(image / "var/lib/stocky/.env") == "/etc/stocky/stocky.env"
    env_file = (image / "etc/stocky/stocky.env").stat()
    assert (env_file.st_gid, stat.S_IMODE(env_file.st_mode)) == (int(groups["stocky"][2]), 0o640)

    library = next(p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
                   if (p / "multi-user.target").exists())
    shutil.copytree(library, image / "usr/lib/systemd/system", symlinks=True, dirs_exist_ok=True)
    done = subprocess.run([analyze, "verify", f"--root={image}", "--man=no", "--generators=no",
                           "stocky.service", "stocky-kiosk.service"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_installer_switches_modes_and_keeps_the_settings(installed, wheel, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(installed[0], root, symlinks=True)
    env_file = root / "etc/stocky/stocky.env"
    env_file.write_text(env_file.read_text() + "STOCKY_KIOSK_USER=anna\n")
    mine = env_file.read_bytes()
    wants = root / "etc/systemd/system/multi-user.target.wants"
    drop_in = root / "etc/systemd/system/stocky-kiosk.service.d/cage.conf"

    install(root, "--headless", str(wheel))
    assert (wants / "stocky.service").is_symlink() and not (wants / "stocky-kiosk.service").exists()
    assert env_file.read_bytes() == mine

    install(root, "--cage", str(wheel))
    assert (wants / "stocky-kiosk.service").is_symlink() and not (wants / "stocky.service").exists()
    assert drop_in.read_bytes() == (REPO / "systemd/stocky-kiosk-cage.conf").read_bytes()

    install(root, str(wheel))
    assert not drop_in.exists()
    assert env_file.read_bytes() == mine


def test_installer_refuses_what_it_cannot_install(tmp_path):
    for args, message in (
        (["--bogus"], "unknown option --bogus"),
        ([str(tmp_path / "missing.whl")], "no such wheel or directory"),
        (["--headless", "--cage"], "--cage is for the kiosk"),
        (["--python", str(tmp_path / "nopython")], "no Python at"),
    ):
        done = subprocess.run(["bash", str(INSTALL), "--root", str(tmp_path / "root"), *args],
                              capture_output=True, text=True, timeout=60, env=clean_env())
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
    assert not (tmp_path / "root/opt").exists()


REAL_INSTALL = r"""
set -eu
mount -t overlay overlay -o "lowerdir=/,upperdir=$OV/upper,workdir=$OV/work" "$OV/merged"
# No /sys: udevadm trigger inside must not reach this machine's devices.
for d in proc dev; do mount --rbind "/$d" "$OV/merged/$d"; done
exec chroot "$OV/merged" /bin/bash -eu -c '
  bash "$INSTALL" --python "$PYTHON" "$WHEEL" > "$OV/first.log" 2>&1
  bash "$INSTALL" --python "$PYTHON" "$WHEEL" > "$OV/second.log" 2>&1
  echo "user: $(id stocky)"
  echo "state: $(stat -c "%U:%G %a" /var/lib/stocky)"
  echo "settings: $(stat -c "%U:%G %a" /etc/stocky/stocky.env)"
  echo "enabled: $(readlink /etc/systemd/system/multi-user.target.wants/stocky-kiosk.service)"
  # What the unit runs, as its user, in its directory, with its settings file.
  cd /var/lib/stocky
  setpriv --reuid=stocky --regid=stocky --init-groups env STOCKY_DATA_DIR=/var/lib/stocky \
    UDA_API_URL="http://127.0.0.1:9/{upc}" /opt/stocky/venv/bin/stocky serve \
    --host 127.0.0.1 --port "$PORT" > "$OV/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 150); do
    if health=$("$PYTHON" -c "$GET_HEALTH" 2>/dev/null); then
      echo "health: $health"; break
    fi
    sleep 0.2
  done
  kill -TERM "$server"
  rc=0; wait "$server" || rc=$?
  echo "serve exit: $rc"
  echo "db: $(stat -c "%U" /var/lib/stocky/stocky.db)"
'
"""


def test_installer_on_a_real_system(wheel, tmp_path):
    """`sudo install.sh` without --root, on a copy-on-write view of this
    machine (an overlay in a private mount namespace, thrown away after):
    the user, its groups, the directories and permissions, and Stocky
    serving as that user."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        pytest.skip("needs root, unshare and setpriv")
    python = "/usr/bin/python3"
    headers = ("import os, sys, sysconfig; sys.exit(sys.version_info < (3, 11) or not "
               "os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))")
    if not (Path(python).exists() and shutil.which("gcc")) or subprocess.run(
            [python, "-c", headers], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no system Python 3.11+ with headers and gcc (evdev is built from source)")
    overlay = tmp_path / "overlay"
    for part in ("upper", "work", "merged"):
        (overlay / part).mkdir(parents=True)
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         f"mount -t overlay overlay -o lowerdir=/,upperdir={overlay}/upper,"
         f"workdir={overlay}/work {overlay}/merged"],
        capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"no overlay mounts here: {probe.stderr.decode().strip()}")
    shutil.rmtree(overlay / "work")
    (overlay / "work").mkdir()
    env = clean_env(OV=str(overlay), INSTALL=str(INSTALL), WHEEL=str(wheel), PYTHON=python,
                    PORT=str(free_port()))
    env["GET_HEALTH"] = ("import os, urllib.request as u; print(u.urlopen('http://127.0.0.1:' + "
                         "os.environ['PORT'] + '/health', timeout=1).read().decode())")
    before = host_state()
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                           REAL_INSTALL], env=env, capture_output=True, text=True, timeout=600)
    logs = {name: (overlay / "upper" / str(overlay).lstrip("/") / name) for name in
            ("first.log", "second.log", "serve.log")}
    details = "\n".join(f"--- {n}\n{p.read_text()[-2000:]}" for n, p in logs.items() if p.exists())
    assert done.returncode == 0, done.stdout + done.stderr + details
    report = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    groups = report["user"]
    for group in ("stocky", "input", "video", "render"):
        assert f"({group})" in groups, groups
    assert report["state"] == "stocky:stocky 750"
    assert report["settings"] == "root:stocky 640"
    assert report["enabled"] == "/etc/systemd/system/stocky-kiosk.service"
    assert json.loads(report["health"]) == {"status": "ok"}, details
    assert report["serve exit"] == "0", details
    assert report["db"] == "stocky"
    second = logs["second.log"].read_text()
    assert "installed " not in second and "created " not in second
    assert host_state() == before, "the machine itself got none of it"


def test_installer_is_shellcheck_clean():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (Debian package shellcheck)")
    run([shellcheck, str(INSTALL)], timeout=60)
