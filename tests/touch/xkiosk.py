"""The kiosk as it runs on the appliance: ``stocky kiosk --demo`` in a real X
server (Xvfb) under a kiosk window manager (matchbox), tapped with real X
pointer events from outside the process (xdotool). Where to tap comes from
the kiosk's probe socket (``stocky_touch/probe.py``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from support.polling import eventually_sync
from support.qr import decode_qr_codes

TOOLS = ("Xvfb", "matchbox-window-manager", "xdotool")
GRAB_SCREEN = ("import sys; from PySide6.QtGui import QGuiApplication; app = QGuiApplication(sys.argv[:1]); "
               "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)")


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: xvfb matchbox-window-manager xdotool; see .ci/run)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class XKiosk:
    def __init__(self, workdir: Path, size: tuple[int, int], https: bool = False) -> None:
        self.workdir = workdir
        self.size = size
        self.port = _free_port()
        self.https_port = _free_port() if https else 0  # 0: plain HTTP only
        self.probe_path = str(workdir / "probe.sock")
        self.processes: list[subprocess.Popen] = []
        self.display = ""
        self.token = ""
        self.scanner_key = ""

    # -- starting and stopping ------------------------------------------------

    def start(self) -> XKiosk:
        read_end, write_end = os.pipe()
        width, height = self.size
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
                                 "-nolisten", "tcp"], pass_fds=(write_end,), stderr=subprocess.DEVNULL)
        self.processes.append(xvfb)
        os.close(write_end)
        with os.fdopen(read_end) as numbers:
            self.display = ":" + numbers.readline().strip()
        env = dict(os.environ, DISPLAY=self.display)
        env.pop("QT_QPA_PLATFORM", None)
        env.pop("WAYLAND_DISPLAY", None)
        self.processes.append(subprocess.Popen(["matchbox-window-manager", "-use_titlebar", "no"], env=env,
                                               stderr=subprocess.DEVNULL))
        self.env = env
        kiosk_env = dict(env, STOCKY_DATA_DIR=str(self.workdir / "data"), STOCKY_TOUCH_PROBE=self.probe_path,
                         UDA_API_URL="http://127.0.0.1:9/{upc}", QT_QPA_PLATFORM="xcb")
        self.output = (self.workdir / "kiosk.out").open("w+")
        self.kiosk = subprocess.Popen(
            [sys.executable, "-m", "stocky", "kiosk", "--demo", "--host", "127.0.0.1", "--port", str(self.port),
             "--https-port", str(self.https_port)],
            cwd=self.workdir, env=kiosk_env, stdout=self.output, stderr=subprocess.STDOUT, text=True)
        self.processes.append(self.kiosk)
        eventually_sync(lambda: os.path.exists(self.probe_path) or self.kiosk.poll() is not None, 60, "the kiosk")
        assert self.kiosk.poll() is None, self.log()
        printed = eventually_sync(lambda: re.search(r"password '([^']+)'.*?API key: (\S+)", self.log(), re.S), 10,
                             "the demo logins")
        self.scanner_key = printed.group(2)
        self.token = self.api("POST", "/auth/login", {"username": "admin", "password": printed.group(1)})[1][
            "access_token"]
        eventually_sync(lambda: self.find("Inventory", "tab"), 20, "the inventory tab")
        return self

    def log(self) -> str:
        return (self.workdir / "kiosk.out").read_text(errors="replace")

    def stop(self) -> None:
        if self.kiosk.poll() is None:
            self.kiosk.terminate()
            try:
                self.kiosk.wait(20)
            except subprocess.TimeoutExpired:
                self.kiosk.kill()
        for process in reversed(self.processes[:-1]):
            process.terminate()
            process.wait(10)
        self.output.close()

    # -- looking ----------------------------------------------------------------

    def controls(self) -> list[dict[str, Any]]:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(self.probe_path)
            sock.sendall(b"controls\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)

    def find_all(self, text: str | Callable[[str], bool], kind: str | None = None,
                 inside: str | None = None) -> list[dict[str, Any]]:
        """Controls whose text, or accessible name ("Later day" for a ▲), matches."""
        matches = text if callable(text) else (lambda value: value == text)
        return [c for c in self.controls() if (matches(c["text"]) or (c["name"] and matches(c["name"])))
                and (kind is None or c["kind"] == kind)
                and (inside is None or inside in c["in"])]

    def find(self, text: str | Callable[[str], bool], kind: str | None = None,
             inside: str | None = None) -> dict[str, Any] | None:
        found = self.find_all(text, kind, inside)
        return found[0] if found else None

    def wait_for(self, text: str | Callable[[str], bool], kind: str | None = None, inside: str | None = None,
                 timeout: float = 10.0) -> dict[str, Any]:
        return eventually_sync(lambda: self.find(text, kind, inside), timeout, f"{kind or 'control'} {text!r}")

    def on_screen(self, control: dict[str, Any]) -> bool:
        """Wholly shown: within the screen, and not cut by the edge of its page."""
        width, height = self.size
        return (control["x"] >= 0 and control["y"] >= 0 and control["x"] + control["w"] <= width
                and control["y"] + control["h"] <= height
                and control["shown"] == [control["x"], control["y"], control["w"], control["h"]])

    def screenshot(self, path: Path) -> QImage:
        """What the X screen shows, grabbed from outside the kiosk by a Qt
        program of its own (no ImageMagick needed)."""
        subprocess.run([sys.executable, "-c", GRAB_SCREEN, str(path)], env=dict(self.env, QT_QPA_PLATFORM="xcb"),
                       check=True, timeout=30)
        return QImage(str(path))

    def qr_codes(self, path: Path) -> list[str]:
        """What a phone's camera reads in the QR codes on the screen (the
        screenshot is kept at ``path``)."""
        grey = self.screenshot(path).convertToFormat(QImage.Format.Format_Grayscale8)
        pixels = memoryview(bytes(grey.constBits())).cast("B", (grey.height(), grey.bytesPerLine()))
        return decode_qr_codes(pixels)

    # -- touching ---------------------------------------------------------------

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, timeout=10)

    def tap(self, control: dict[str, Any], then: Callable[[], Any] | None = None) -> None:
        """Tap the middle of ``control``. With ``then``: tap again (twice at most)
        until ``then()`` holds, as a person does when a tap only stopped a
        page that was still gliding after a flick."""
        # The middle of what is shown of it: a field at the edge of its page
        # is tapped where a finger can see it.
        left, top, width, height = control["shown"]
        assert width >= 24 and height >= 24, f"{control} is not on the {self.size} screen"
        x, y = left + width // 2, top + height // 2
        if "banner" not in control["in"]:
            self._tap_away_banner(x, y)
        for attempt in range(3 if then is not None else 1):
            self.xdotool("mousemove", str(x), str(y), "click", "1")
            time.sleep(0.1)  # a finger lifts; the next tap is a new one
            if then is None:
                return
            try:
                eventually_sync(then, 3, "the tap's effect")
                return
            except AssertionError:
                if attempt == 2:
                    raise

    def _tap_away_banner(self, x: int, y: int) -> None:
        """A message lying over the spot: a person taps it away first."""
        for banner in self.find_all(lambda _text: True, "label", inside="banner"):
            if banner["x"] <= x < banner["x"] + banner["w"] and banner["y"] <= y < banner["y"] + banner["h"]:
                self.xdotool("mousemove", str(banner["x"] + 20), str(banner["y"] + banner["h"] // 2), "click", "1")
                text = banner["text"]
                eventually_sync(lambda text=text: not self.find(text, "label", inside="banner"), 5,
                           f"the banner {text!r} put away")
                return

    def type_on_keyboard(self, text: str) -> None:
        """Type ``text`` with the on-screen keyboard's keys, one tap each,
        switching between letters and symbols (?123) as a person would."""
        keys: dict[str, dict[str, Any]] = {}
        for char in text:
            label = "space" if char == " " else char
            if label not in keys:  # the keys stay put while typing: look again only for another set
                keys = {key["text"]: key for key in self.find_all(lambda _text: True, "button", inside="keyboard")}
            if label not in keys:
                self.tap(keys["?123"])
                keys = {key["text"]: key for key in self.find_all(lambda _text: True, "button", inside="keyboard")}
            self.tap(keys[label])

    def reach(self, text: str | Callable[[str], bool], kind: str | None = None,
              inside: str | None = None) -> dict[str, Any]:
        """Find a control, scrolling its page up with a finger until it is on the screen."""
        for _ in range(8):
            control = self.wait_for(text, kind, inside)
            while True:  # until the page comes to rest: a tap on a moving page only stops it
                time.sleep(0.15)
                resting, control = control, self.wait_for(text, kind, inside)
                if (resting["x"], resting["y"]) == (control["x"], control["y"]):
                    break
            if self.on_screen(control):
                return control
            x = min(max(control["x"] + control["w"] // 2, 0), self.size[0] - 1)
            self.drag(x, self.size[1] - 80, -(self.size[1] // 3))
        raise AssertionError(f"{text!r} cannot be scrolled onto the {self.size} screen")

    def drag(self, x: int, y: int, dy: int) -> None:
        """A finger drags the screen up (``dy`` < 0) or down, slowly enough not to flick."""
        steps = 12
        moves: list[str] = []
        for step in range(1, steps + 1):
            moves += ["mousemove", str(x), str(y + dy * step // steps), "sleep", "0.02"]
        self.xdotool("mousemove", str(x), str(y), "mousedown", "1", *moves, "mouseup", "1")

    # -- the API, to see what a tap changed ---------------------------------------

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def field(self, placeholder: str) -> dict[str, Any]:
        return eventually_sync(lambda: next((c for c in self.controls() if c["kind"] == "field"
                                        and c["placeholder"].startswith(placeholder)), None),
                          10, f"the field {placeholder!r}")

    def api(self, method: str, path: str, body: dict | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **(headers or self._bearer())})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
