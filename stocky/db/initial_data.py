"""Create the first Admin: ``python -m stocky.db.initial_data --username NAME
--password-stdin`` (the same as ``stocky create-admin``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from stocky.core.settings import Settings
from stocky.schemas.actor import SYSTEM
from stocky.schemas.user import UserCreated
from stocky.services.container import Services, open_services


async def create_admin(services: Services, username: str, password: str) -> UserCreated:
    return await services.users.create(
        {"username": username, "role": "Admin", "password": password}, SYSTEM
    )


def read_password(stream=sys.stdin) -> str:
    """The first line of ``stream``, without its line ending."""
    return stream.readline().rstrip("\r\n")


async def _main(username: str, password: str) -> None:
    async with open_services(Settings()) as services:
        user = await create_admin(services, username, password)
    print(f"Created Admin {user.username}.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True)
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from the first line of standard input",
    )


def run(args: argparse.Namespace) -> None:
    asyncio.run(_main(args.username, read_password()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Create the first Stocky Admin.")
    add_arguments(parser)
    from stocky.cli import run_guarded

    run_guarded(run, parser.parse_args())
