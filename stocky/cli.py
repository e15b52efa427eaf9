"""The ``stocky`` command."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stocky.core.errors import StockyError


def run_guarded(action: Callable[[Any], None], args: Any) -> None:
    """Run a command; a person's mistake ends with a plain message, not a traceback."""
    try:
        action(args)
    except StockyError as error:
        print(f"stocky: {error.message}", file=sys.stderr)
        raise SystemExit(1) from None
    except ValidationError as error:  # settings from the environment or .env
        lines = "\n".join(
            f"  {'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        )
        print(f"stocky: the settings are not valid:\n{lines}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def _db_upgrade(_args: argparse.Namespace) -> None:
    from stocky.core.settings import Settings
    from stocky.db import guard, migrations

    settings = Settings()

    async def main() -> None:
        with guard.locks(settings):
            await guard.upgrade(settings)

    asyncio.run(main())
    print(f"The database is at the newest schema ({migrations.head_revision()}).")


def _user_add(args: argparse.Namespace) -> None:
    from stocky.core.settings import Settings
    from stocky.initial_data import read_password
    from stocky.schemas.actor import SYSTEM
    from stocky.services.container import open_services

    password = read_password() if args.password_stdin else None

    async def main() -> None:
        async with open_services(Settings()) as services:
            user = await services.users.create(
                {
                    "username": args.name,
                    "role": args.role,
                    "password": password,
                    "with_api_key": args.api_key,
                },
                SYSTEM,
            )
        print(f"Created {user.role} {user.username}.")
        if user.api_key:
            print(f"API key (shown only now): {user.api_key}")
            print(_terminal_qr(user.api_key))

    asyncio.run(main())


def _terminal_qr(text: str) -> str:
    import qrcode

    code = qrcode.QRCode(border=2)
    code.add_data(text)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def _serve(args: argparse.Namespace) -> None:
    from stocky.server import serve

    serve(demo=args.demo, host=args.host, port=args.port, https_port=args.https_port)


def _tls(args: argparse.Namespace) -> None:
    from stocky.core.settings import Settings
    from stocky.core.tls import box_names, ensure_box_certificate

    settings = Settings()
    names = list(dict.fromkeys([*box_names(), *(args.name or [])]))
    box = ensure_box_certificate(settings.data_dir / "tls", names)
    print(f"Stocky's certificate authority: {box.ca.resolve()}")
    print(f"SHA-256 fingerprint (a phone shows it when installing): {box.fingerprint}")
    print(f"The server certificate names: {', '.join(box.names)}")
    if left_out := [name for name in names if name not in box.names]:
        print(f"Not named (the authority was made for other names): {', '.join(left_out)}; "
              "move the tls directory away to make a new authority, then install it on the phones again.")
    print("Stocky serves it on STOCKY_HTTPS_PORT (8443); a phone installs the authority from /connect.")


def _bridge(args: argparse.Namespace) -> None:
    from stocky.core.errors import InvalidInput
    from stocky.core.logconfig import configure_console
    from stocky.core.settings import Settings, ensure_mqtt_client_id
    from stocky.inputs.bridge import Bridge, run_until_signalled

    settings = Settings()
    configure_console(settings.log_level)
    broker = args.broker or settings.mqtt_url
    if not broker:
        raise InvalidInput("No MQTT broker: set STOCKY_MQTT_URL or pass --broker mqtt://host:1883.")
    bridge = Bridge(
        broker,
        args.topic or settings.mqtt_topic,
        args.backend or settings.bridge_backend_url,
        client_id=args.client_id or ensure_mqtt_client_id(settings, bridge=True),
    )
    asyncio.run(run_until_signalled(bridge))


def _kiosk(args: argparse.Namespace) -> None:
    # The only command that loads Qt; stocky itself never imports it.
    from stocky_touch.app import run_kiosk

    run_kiosk(demo=args.demo, windowed=args.windowed, host=args.host, port=args.port,
              https_port=args.https_port)


def _create_admin(args: argparse.Namespace) -> None:
    from stocky import initial_data

    initial_data.run(args)


def _demo_data(args: argparse.Namespace) -> None:
    from stocky import demo_data

    demo_data.run(args)


def _backup(args: argparse.Namespace) -> None:
    from stocky.core.settings import Settings
    from stocky.db.backup import backup

    written = backup(Settings().resolved_database_url, args.file)
    print(f"Backed up to {written}.")


def _restore(args: argparse.Namespace) -> None:
    from stocky.core.settings import Settings
    from stocky.db.backup import restore

    settings = Settings()
    kept = restore(settings.resolved_database_url, settings.data_dir, args.file)
    print(f"Restored {args.file}. The database it replaced is kept as {kept}.")


def _listen_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--demo", action="store_true", help="fill an empty database with a demo kitchen")
    command.add_argument("--host", help="listen address (default from STOCKY_HOST, 0.0.0.0)")
    command.add_argument("--port", type=int, help="listen port (default from STOCKY_PORT, 8000)")
    command.add_argument("--https-port", type=int,
                         help="HTTPS port (default from STOCKY_HTTPS_PORT, 8443; 0 turns HTTPS off)")


def build_parser() -> argparse.ArgumentParser:
    # Commands import what they need when they run, so `stocky --help` and
    # the bridge start in a blink.
    parser = argparse.ArgumentParser(
        prog="stocky", description="Stocky, the kitchen inventory appliance."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kiosk = commands.add_parser("kiosk", help="the appliance: touch screen, API and scanners in one process")
    _listen_options(kiosk)
    kiosk.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    kiosk.set_defaults(action=_kiosk)

    serve = commands.add_parser("serve", help="run the API and scanners headless (no screen needed)")
    _listen_options(serve)
    serve.set_defaults(action=_serve)

    tls = commands.add_parser(
        "tls", help="make or show this box's HTTPS certificate and the authority phones install")
    tls.add_argument("--name", action="append", help="another host name or address to include (repeatable)")
    tls.set_defaults(action=_tls)

    bridge = commands.add_parser("bridge", help="forward scans from an MQTT broker to a Stocky over HTTP")
    bridge.add_argument("--broker", help="mqtt://user:password@host:1883 (default from STOCKY_MQTT_URL)")
    bridge.add_argument("--topic", help="topic to listen on (default from STOCKY_MQTT_TOPIC, stocky/scan)")
    bridge.add_argument(
        "--backend", help="the Stocky to post scans to (default from STOCKY_BRIDGE_BACKEND_URL, "
        "http://127.0.0.1:8000)"
    )
    bridge.add_argument(
        "--client-id", help="MQTT client id (default: one made once and kept in STOCKY_DATA_DIR, so the "
        "broker holds scans for the bridge while it restarts)"
    )
    bridge.set_defaults(action=_bridge)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="bring the database to the newest schema").set_defaults(
        action=_db_upgrade
    )

    admin = commands.add_parser("create-admin", help="create an Admin user")
    admin.add_argument("--username", required=True)
    admin.add_argument(
        "--password-stdin", action="store_true", required=True,
        help="read the password from the first line of standard input",
    )
    admin.set_defaults(action=_create_admin)

    commands.add_parser("demo-data", help="fill an empty database with a demo kitchen").set_defaults(
        action=_demo_data
    )

    backup = commands.add_parser("backup", help="copy the database to FILE (safe while Stocky runs)")
    backup.add_argument("file", type=Path)
    backup.set_defaults(action=_backup)
    restore = commands.add_parser("restore", help="put a backup back (stop Stocky first)")
    restore.add_argument("file", type=Path)
    restore.set_defaults(action=_restore)

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    add = user_commands.add_parser("add", help="add a user; a Scanner gets an API key, shown once")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="Admin, Member, Scanner or Read-only")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--api-key", action="store_true", help="give a person an API key as well")
    add.set_defaults(action=_user_add)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_guarded(args.action, args)


if __name__ == "__main__":
    main()
