"""``stocky kiosk``: the API, the scanner inputs and the touch window on one
qasync event loop, started in order and stopped in reverse."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from stocky.core.errors import StockyError
from stocky.core.logconfig import configure_console
from stocky.core.settings import Settings
from stocky.demo_data import describe
from stocky.runtime import Runtime
from stocky.schemas.actor import SYSTEM
from stocky.schemas.commands import ScanCommand
from stocky.schemas.user import UserOut
from stocky.services.scanning import Device
from stocky.services.users import actor_of

log = logging.getLogger("stocky.kiosk")

# The scanner that types into the kiosk's window (when evdev cannot read it).
WEDGE_KEY, WEDGE_NAME = "keywedge", "Kiosk scanner"


class NoDisplay(StockyError):
    code = "no_display"


def check_display(environ: dict[str, str] | None = None) -> None:
    """Fail with advice, not a Qt abort, when there is no screen to draw on."""
    env = os.environ if environ is None else environ
    if env.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return
    raise NoDisplay(
        "No display found (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are all unset). "
        "For the API without a screen run 'stocky serve'; to draw off screen set "
        "QT_QPA_PLATFORM=offscreen; on a bare console use QT_QPA_PLATFORM=linuxfb (as the "
        "systemd unit does)."
    )


KITCHEN = "kitchen"
RESTING_ROLES = ("Member", "Read-only")


async def choose_kiosk_user(runtime: Runtime) -> UserOut | None:
    """The account the screen rests as: a Member named by STOCKY_KIOSK_USER
    (default "kitchen"), made at the first start; never an Admin, so whoever
    stands at the fridge can count stock but not manage users."""
    name = runtime.settings.kiosk_user or KITCHEN
    user = await runtime.services.users.ensure_kiosk_account(name)
    if user.is_active and user.role in RESTING_ROLES:
        return user
    log.warning("The kiosk user %s is %s%s: the screen rests only as an active Member or Read-only "
                "account, so it starts signed out", name, user.role, "" if user.is_active else " and inactive")
    return None


async def has_admin(runtime: Runtime) -> bool:
    return await runtime.services.users.has_admin()


def screen_id(settings: Settings) -> str:
    """This screen's ``ui_instance_id``, kept in the data directory so a
    printed "link a scanner" card stays valid across restarts."""
    path = settings.data_dir / "ui_instance_id"
    try:
        return str(uuid.UUID(path.read_text(encoding="utf-8").strip()))
    except (OSError, ValueError):
        value = str(uuid.uuid4())
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n", encoding="utf-8")
        return value


class Kiosk:
    """The window and what feeds it, on a running qasync loop."""

    def __init__(self, runtime: Runtime, windowed: bool = False) -> None:
        self.runtime = runtime
        self.windowed = windowed
        self.window = None
        self.live = None
        self.wedge = None
        self._unwatch_activity = None
        self._probe = None
        self.stopping = asyncio.Event()

    async def start(self) -> None:
        from PySide6.QtWidgets import QApplication

        import resources
        from stocky_touch.keywedge import KeyWedge
        from stocky_touch.live import Live
        from stocky_touch.main_window import MainWindow
        from stocky_touch.session import Session, watch_activity
        from stocky_touch.views.base import Context
        from stocky_touch.widgets.common import Notifier

        app = QApplication.instance()
        app.setStyleSheet(resources.path("style.qss").read_text(encoding="utf-8"))
        self.runtime.ui_id = self.runtime.ui_id or screen_id(self.runtime.settings)
        await self.runtime.start()
        services = self.runtime.services
        self.live = Live(services, self.runtime.ui_id)
        session = Session()
        self._unwatch_activity = watch_activity(session)
        ctx = Context(services=services, session=session, live=self.live, notifier=Notifier(),
                      https=self.runtime.https, http_port=self.runtime.bound_port)
        self.window = MainWindow(ctx)
        self.window.closing.connect(self.stopping.set)
        install_excepthook(ctx.notifier)
        if self.runtime.demo_logins is not None:
            # The demo scanner talks to this screen: the README's curl scan shows here.
            demo_scanner = await services.users.by_username(self.runtime.demo_logins.scanner_username, SYSTEM)
            if demo_scanner is not None:
                card = ScanCommand(command="associate_ui", payload=self.runtime.ui_id).encode()
                await services.scans.scan(actor_of(demo_scanner, "scan"), card)
        kiosk_user = await choose_kiosk_user(self.runtime)
        session.start(kiosk_user)
        self.window.start()
        if not await has_admin(self.runtime):
            self.window.signin_page.show_first_start()
            self.window.stack.setCurrentWidget(self.window.signin_page)
        # Always on: a scanner evdev has grabbed never reaches Qt, so the
        # wedge only sees the scanners evdev could not open.
        self.wedge = KeyWedge(self._wedge_scan)
        self.wedge.install()
        if self.windowed:
            # As big as the screen's free room allows, up to 1280x800.
            room = self.window.screen().availableGeometry()
            self.window.resize(min(1280, room.width()), min(800, room.height()))
            self.window.show()
        else:
            self.window.showFullScreen()
        from stocky_touch.probe import start_probe

        self._probe = await start_probe()
        self.runtime.ready()

    def _wedge_scan(self, text: str) -> None:
        from stocky_touch.widgets.common import run

        device = Device(WEDGE_KEY, WEDGE_NAME, self.live.ui_id)
        run(self.window.ctx.notifier, self.runtime.services.scans.scan_from_device(device, text))

    async def stop(self) -> None:
        from stocky_touch.widgets.common import cancel_running

        if self._probe is not None:
            self._probe.close()
        if self.wedge is not None:
            self.wedge.remove()
        if self._unwatch_activity is not None:
            self._unwatch_activity()
        if self.live is not None:
            self.live.close()
        await cancel_running()
        await self.runtime.stop()
        if self.window is not None:
            self.window.hide()
            self.window.deleteLater()
            self.window = None


def install_excepthook(notifier) -> None:
    """An exception in a slot reaches only sys.excepthook: log it and show it."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        log.error("Unexpected error in the touch screen:\n%s", "".join(traceback.format_exception(kind, error, tb)))
        notifier.error(f"Something went wrong: {error}")

    sys.excepthook = hook


async def run_kiosk_until_stopped(kiosk: Kiosk, stop: asyncio.Event) -> None:
    await kiosk.start()
    runtime = kiosk.runtime
    if runtime.demo:
        print(describe(runtime.demo_logins, runtime.host), flush=True)
    print(f"Stocky kiosk is running: {runtime.where()}", flush=True)
    waiters = [
        asyncio.ensure_future(stop.wait()),
        asyncio.ensure_future(kiosk.stopping.wait()),
        asyncio.ensure_future(runtime.storage_lost.wait()),
    ]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await kiosk.stop()
    runtime.raise_if_storage_lost()


def new_qt_loop(app) -> asyncio.AbstractEventLoop:
    """A qasync loop whose executor (bcrypt, images) is a plain thread pool:
    qasync's default runs QThreads, which can outlive the application and
    crash the interpreter at exit."""
    import qasync

    loop = qasync.QEventLoop(app)
    loop.set_default_executor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="stocky"))
    return loop


def run_kiosk(demo: bool = False, windowed: bool = False, host: str | None = None,
              port: int | None = None, https_port: int | None = None) -> None:
    check_display()
    settings = Settings()
    configure_console(settings.log_level)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Stocky")
    app.setQuitOnLastWindowClosed(False)  # the runtime decides when to quit
    if not app.screens():
        # linuxfb without a framebuffer carries on with no screen at all; an
        # appliance showing a blank console should fail and be restarted.
        raise NoDisplay(f"Qt found no screen on the {app.platformName()} platform.")
    loop = new_qt_loop(app)
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runtime = Runtime(settings, demo=demo, host=host, port=port, https_port=https_port)
    kiosk = Kiosk(runtime, windowed=windowed)
    try:
        loop.run_until_complete(run_kiosk_until_stopped(kiosk, stop))
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        loop.close()
        asyncio.set_event_loop(None)
        app.processEvents()
        # Delete Qt objects before the interpreter tears down, or PySide can
        # crash at exit.
        del kiosk
        app.shutdown() if hasattr(app, "shutdown") else None
