"""The appliance's systemd units and udev rule: systemd itself accepts them,
they start Stocky the way its code expects (notify, watchdog, settings, data
directory), the kiosk can reach the screen and the input devices, and the udev
rule hands scanners, and only scanners, to Stocky."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stocky.core.sdnotify import Notifier

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
UNITS = ("stocky.service", "stocky-kiosk.service")
RULE = SYSTEMD / "70-stocky-scanners.rules"
STOCKY = "/opt/stocky/venv/bin/stocky"


# --- unit files as systemd reads them -----------------------------------------

def parse_unit(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) in order; keys may repeat, as in systemd."""
    entries: list[tuple[str, str, str]] = []
    section = ""
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def values(entries: list[tuple[str, str, str]], key: str, section: str = "Service") -> list[str]:
    return [v for s, k, v in entries if s == section and k == key]


def one(entries: list[tuple[str, str, str]], key: str, section: str = "Service") -> str:
    found = values(entries, key, section)
    assert len(found) == 1, f"{key}= is set {len(found)} times"
    return found[0]


def environment(entries: list[tuple[str, str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in values(entries, "Environment"):
        for assignment in shlex.split(value):
            name, _, setting = assignment.partition("=")
            env[name] = setting
    return env


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, f"unexpected time span {value!r}"
    return int(match[1]) * (60 if match[2] == "min" else 1)


@pytest.fixture(scope="module", params=UNITS)
def unit(request) -> tuple[str, list[tuple[str, str, str]]]:
    return request.param, parse_unit(SYSTEMD / request.param)


# --- systemd-analyze ----------------------------------------------------------

@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing; CI must have it (Debian package systemd)",
                        pytrace=False)
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    return tool


def unit_library() -> Path:
    for candidate in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if (candidate / "multi-user.target").exists():
            return candidate
    pytest.skip("no systemd unit library (multi-user.target) on this machine")


def make_root(root: Path, *, stocky: bool = True, cage: bool = False) -> Path:
    """A file system root with systemd's own units, ours in /etc/systemd/system
    and (unless told otherwise) an executable where the units expect Stocky."""
    shutil.copytree(unit_library(), root / "usr/lib/systemd/system", symlinks=True)
    target = root / "etc/systemd/system"
    target.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(SYSTEMD / name, target / name)
    executables = [STOCKY] if stocky else []
    if cage:
        drop_in = target / "stocky-kiosk.service.d"
        drop_in.mkdir()
        shutil.copy(SYSTEMD / "stocky-kiosk-cage.conf", drop_in / "cage.conf")
        executables.append("/usr/bin/cage")
    for executable in executables:
        path = root / executable.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return root


def verify(tool: str, root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, "verify", f"--root={root}", "--man=no", "--generators=no", *units],
        capture_output=True, text=True, timeout=60,
    )


def test_systemd_accepts_every_unit(systemd_analyze, tmp_path):
    root = make_root(tmp_path)
    done = verify(systemd_analyze, root, *UNITS)
    # Unknown or misspelled settings are only warnings: any output is a failure.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_systemd_accepts_the_cage_drop_in(systemd_analyze, tmp_path):
    root = make_root(tmp_path, cage=True)
    done = verify(systemd_analyze, root, "stocky-kiosk.service")
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_verify_notices_a_missing_program_and_a_misspelled_setting(systemd_analyze, tmp_path):
    """What the two tests above rely on: verify reads these files for real."""
    missing = verify(systemd_analyze, make_root(tmp_path / "a", stocky=False), "stocky.service")
    assert missing.returncode != 0 and f"{STOCKY} is not executable" in missing.stderr

    root = make_root(tmp_path / "b")
    unit_file = root / "etc/systemd/system/stocky.service"
    unit_file.write_text(unit_file.read_text().replace("WatchdogSec=", "WatchDogSec="))
    misspelled = verify(systemd_analyze, root, "stocky.service")
    assert "Unknown key 'WatchDogSec'" in misspelled.stderr


@pytest.mark.parametrize(("name", "limit"),
                         [("stocky.service", 2.5), ("stocky-kiosk.service", 3.0)])
def test_units_are_hardened(systemd_analyze, tmp_path, name, limit):
    """systemd's own exposure score (0 = locked down, 10 = none): the server has
    little it may touch; the kiosk keeps the screen and input devices."""
    root = make_root(tmp_path)
    done = subprocess.run(
        [systemd_analyze, "security", "--offline=yes", f"--root={root}",
         f"--threshold={int(limit * 10)}", "--no-pager", name],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


# --- what the units promise ---------------------------------------------------

def test_units_run_stocky_as_its_own_user_with_its_state_and_settings(unit):
    name, entries = unit
    command = "kiosk" if "kiosk" in name else "serve"
    assert one(entries, "ExecStart") == f"{STOCKY} {command}"
    assert one(entries, "User") == one(entries, "Group") == "stocky"
    assert one(entries, "StateDirectory") == "stocky"
    assert one(entries, "WorkingDirectory") == "/var/lib/stocky"
    assert environment(entries)["STOCKY_DATA_DIR"] == "/var/lib/stocky"
    # Settings the owner edits; optional, and they win over the unit's defaults.
    assert values(entries, "EnvironmentFile") == ["-/etc/stocky/stocky.env"]
    assert one(entries, "Restart") == "always" and seconds(one(entries, "RestartSec")) >= 1
    assert "input" in one(entries, "SupplementaryGroups").split()
    assert one(entries, "WantedBy", "Install") == "multi-user.target"
    # Only one Stocky runs on the data directory at a time.
    other = "stocky.service" if "kiosk" in name else "stocky-kiosk.service"
    assert other in " ".join(values(entries, "Conflicts", "Unit")).split()


def test_units_give_stocky_room_for_connections(unit):
    _, entries = unit
    # Stocky caps its connections below the descriptor limit, with some 200
    # descriptors kept for the database, scanners and accept bursts.
    assert int(one(entries, "LimitNOFILE")) >= 4096


def test_units_use_stockys_readiness_and_watchdog(unit):
    _, entries = unit
    assert one(entries, "Type") == "notify"
    watchdog = seconds(one(entries, "WatchdogSec"))
    # Stocky pings every WATCHDOG_USEC/2 from its event loop: in time, with room.
    notifier = Notifier({"NOTIFY_SOCKET": "/run/systemd/notify",
                         "WATCHDOG_USEC": str(int(watchdog * 1_000_000))})
    assert notifier.watchdog_interval is not None and notifier.watchdog_interval <= watchdog / 2
    assert seconds(one(entries, "TimeoutStartSec")) > watchdog


def test_kiosk_owns_tty1_and_can_reach_screen_and_input():
    entries = parse_unit(SYSTEMD / "stocky-kiosk.service")
    # Under cage the kiosk is the compositor's child: its READY must count.
    assert one(entries, "NotifyAccess") == "all"
    assert {"video", "render", "input"} <= set(one(entries, "SupplementaryGroups").split())
    assert "getty@tty1.service" in " ".join(values(entries, "Conflicts", "Unit")).split()
    assert one(entries, "TTYPath") == "/dev/tty1"
    assert one(entries, "StandardInput").startswith("tty")
    # With a TTY as input, output would go to the screen; it belongs in the journal.
    assert one(entries, "StandardOutput") == one(entries, "StandardError") == "journal"
    # Settings that would close /dev/dri, /dev/fb0 or /dev/input, or drop the
    # groups that open them.
    for closing in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock", "PrivateUsers",
                    "DynamicUser"):
        assert values(entries, closing) == [], f"{closing}= would cut the kiosk off its devices"
    # The kiosk's own SIGTERM handling (clean stop, exit 0), not Qt's console handler.
    assert environment(entries)["QT_QPA_NO_SIGNAL_HANDLER"] == "1"


def test_cage_drop_in_runs_the_kiosk_inside_cage():
    entries = parse_unit(SYSTEMD / "stocky-kiosk-cage.conf")
    assert values(entries, "ExecStart") == ["", f"/usr/bin/cage -d -- {STOCKY} kiosk"]
    assert environment(entries)["QT_QPA_PLATFORM"] == "wayland"
    assert one(entries, "PAMName") == "login"


def test_kiosk_display_settings_load_with_the_qt_stocky_ships(tmp_path):
    """The platform plugin the kiosk unit chooses loads from the PySide6
    wheel (eglfs, for one, cannot: the wheels lack its KMS support library).
    No screen here, so it is pointed at a device that does not exist."""
    pytest.importorskip("PySide6")
    settings = {k: v for k, v in environment(parse_unit(SYSTEMD / "stocky-kiosk.service")).items()
                if k.startswith("QT_")}
    platform = settings["QT_QPA_PLATFORM"]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QT_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(settings, QT_DEBUG_PLUGINS="1")
    kms_config = tmp_path / "kms.json"
    kms_config.write_text(json.dumps({"device": str(tmp_path / "no-card")}))
    if platform == "linuxfb":
        env["QT_QPA_PLATFORM"] = f"linuxfb:fb={tmp_path / 'no-fb'}"
    env["QT_QPA_EGLFS_KMS_CONFIG"] = str(kms_config)
    done = subprocess.run(
        [sys.executable, "-c", "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    log = done.stderr
    assert f'libq{platform}.so" loaded library' in log, log[-3000:]
    problems = [line for line in log.splitlines() if "cannot load" in line.lower()
                or "Failed to load EGL device integration" in line]
    assert problems == []


# --- the udev rule ------------------------------------------------------------

RULE_TOKEN = re.compile(
    r'\s*(?P<key>[A-Z_]+(?:\{[^}]+\})?)\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*(?:,|$)'
)
MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "KERNELS", "DRIVERS", "ENV", "ATTR",
              "ATTRS"}
ASSIGN_KEYS = {"ENV", "GROUP", "MODE", "OWNER", "SYMLINK", "TAG", "GOTO", "LABEL"}


def parse_rules(path: Path) -> list[list[tuple[str, str, str]]]:
    rules = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tokens, position = [], 0
        while position < len(line):
            match = RULE_TOKEN.match(line, position)
            assert match, f"{path.name}:{number}: cannot read {line[position:]!r}"
            tokens.append((match["key"], match["op"], match["value"]))
            position = match.end()
        for key, op, _ in tokens:
            base = key.split("{")[0]
            known = MATCH_KEYS if op in ("==", "!=") else ASSIGN_KEYS
            assert base in known, f"{path.name}:{number}: {key}{op} is not a udev key here"
        rules.append(tokens)
    labels = [value for rule in rules for key, _, value in rule if key == "LABEL"]
    gotos = [value for rule in rules for key, _, value in rule if key == "GOTO"]
    assert set(gotos) <= set(labels), "a GOTO without its LABEL"
    return rules


def udev_match(pattern: str, value: str | None) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, alternative)
                                     for alternative in pattern.split("|"))


def apply_rules(rules, device: dict) -> dict:
    """What udev does with these rules to one device: its ENV, group and links."""
    env = dict(device.get("ENV", {}))
    result = {"ENV": env, "GROUP": "input", "SYMLINK": []}
    number = re.sub(r"\D", "", device["KERNEL"])
    index = 0
    while index < len(rules):
        rule = rules[index]
        index += 1
        matched = True
        for key, op, pattern in rule:
            if op not in ("==", "!="):
                continue
            if key.startswith("ENV{"):
                actual = env.get(key[4:-1])
            elif key.startswith("ATTRS{"):
                actual = device.get("ATTRS", {}).get(key[6:-1])
            else:
                actual = device.get(key)
            if udev_match(pattern, actual if actual is not None else "") != (op == "=="):
                matched = False
                break
        if not matched:
            continue
        for key, op, value in rule:
            if key == "GOTO":
                index = next(i for i, r in enumerate(rules) if ("LABEL", "=", value) in r)
            elif key.startswith("ENV{") and op == "=":
                env[key[4:-1]] = value
            elif key == "SYMLINK":
                result["SYMLINK"].append(value.replace("%n", number))
            elif key in ("GROUP", "MODE") and op == "=":
                result[key] = value
    return result


def input_device(name: str, vendor: str | None = None, kernel: str = "event7",
                 action: str = "add") -> dict:
    env = {"ID_VENDOR_ID": vendor, "ID_MODEL_ID": "0001"} if vendor else {}
    return {"ACTION": action, "SUBSYSTEM": "input", "KERNEL": kernel, "ENV": env,
            "ATTRS": {"name": name}}


SCANNERS = [
    input_device("Symbol Technologies, Inc, 2008 Symbol Bar Code Scanner", "05e0"),
    input_device("Honeywell Imaging & Mobility 1900", "0c2e"),
    input_device("Datalogic ADC, Inc. Handheld Barcode Scanner", "05f9"),
    input_device("BARCODE SCANNER BARCODE SCANNER", "0483"),  # a no-name one, by its name
    input_device("Inateck BCST-70"),  # over Bluetooth: no USB ids
    input_device("Netum 2D Wireless Barcode Reader", "1a86"),
]
NOT_SCANNERS = [
    input_device("Logitech USB Keyboard", "046d"),
    input_device("Logitech USB Optical Mouse", "046d"),
    input_device("ILITEK ILITEK-TP", "222a"),  # the kiosk's touch screen
    input_device("raspberrypi-ts"),
    input_device("vc4-hdmi-0"),
    input_device("Power Button"),
]


@pytest.fixture(scope="module")
def rules():
    return parse_rules(RULE)


@pytest.mark.parametrize("device", SCANNERS, ids=lambda d: d["ATTRS"]["name"])
def test_udev_gives_scanners_to_stocky_and_keeps_them_from_the_compositor(rules, device):
    result = apply_rules(rules, device)
    assert result["GROUP"] == "stocky"
    assert result["ENV"]["LIBINPUT_IGNORE_DEVICE"] == "1"
    assert result["SYMLINK"] == ["input/stocky-scanner-7"]


@pytest.mark.parametrize("device", NOT_SCANNERS, ids=lambda d: d["ATTRS"]["name"])
def test_udev_leaves_keyboards_mice_and_the_touch_screen_alone(rules, device):
    result = apply_rules(rules, device)
    assert result == {"ENV": device["ENV"], "GROUP": "input", "SYMLINK": []}


def test_udev_rule_only_touches_event_nodes_being_added(rules):
    scanner = SCANNERS[0]
    for other in (input_device(scanner["ATTRS"]["name"], "05e0", kernel="input12"),
                  input_device(scanner["ATTRS"]["name"], "05e0", action="remove")):
        assert apply_rules(rules, other)["SYMLINK"] == []


def test_udev_rule_runs_after_the_rules_it_builds_on():
    # 50-udev-default sets GROUP="input"; 60-persistent-input sets ID_VENDOR_ID.
    builds_on = ["50-udev-default.rules", "60-persistent-input.rules"]
    assert sorted([RULE.name, *builds_on])[-1] == RULE.name
    # The group it names is the one the units run as and sysusers creates.
    assert 'GROUP="stocky"' in RULE.read_text()
    sysusers = (SYSTEMD / "stocky.sysusers.conf").read_text()
    assert re.search(r"^u stocky ", sysusers, re.M)


def test_udev_rule_passes_udevadm_verify_where_it_exists(tmp_path):
    udevadm = shutil.which("udevadm")
    if udevadm is None:
        pytest.skip("udevadm is not installed (Debian package udev)")
    if subprocess.run([udevadm, "verify", "--help"], capture_output=True,
                      timeout=30).returncode != 0:
        pytest.skip("this udevadm has no verify (systemd 254 or newer)")
    done = subprocess.run([udevadm, "verify", str(RULE)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


# --- sysusers.d ---------------------------------------------------------------

def test_sysusers_creates_the_user_and_the_groups_the_units_need(tmp_path):
    tool = shutil.which("systemd-sysusers")
    if tool is None:
        pytest.skip("systemd-sysusers is not installed")
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "group", "shadow", "gshadow"):
        source = Path("/etc") / name
        if source.exists():
            shutil.copy(source, tmp_path / "etc" / name)
    done = subprocess.run([tool, f"--root={tmp_path}", "--dry-run",
                           str(SYSTEMD / "stocky.sysusers.conf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for entries in (parse_unit(SYSTEMD / name) for name in UNITS):
        for group in one(entries, "SupplementaryGroups").split():
            assert re.search(rf"^m stocky {group}$",
                             (SYSTEMD / "stocky.sysusers.conf").read_text(), re.M)
