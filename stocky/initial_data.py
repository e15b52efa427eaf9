"""Create the first Admin: ``python -m stocky.initial_data --username NAME
--password-stdin`` (the same as ``stocky create-admin``). Refused once the
household has an Admin: more people are added by an Admin."""

from __future__ import annotations

import argparse
import asyncio
import sys

from stocky.core.settings import Settings
from stocky.schemas.user import UserCreated
from stocky.services.container import Services, open_services


async def create_admin(services: Services, username: str, password: str) -> UserCreated:
    return await services.users.create_first_admin(username, password)


def read_password(stream=sys.stdin) -> str:
    """The first line of ``stream``, without its line ending."""
    return stream.readline().rstrip("\r\n")


async def _main(username: str, password: str) -> None:
    async with open_services(Settings()) as services:
        user = await create_admin(services, username, password)
    print(f"Created Admin {user.username}.")


def run(args: argparse.Namespace) -> None:
    asyncio.run(_main(args.username, read_password()))


if __name__ == "__main__":
    from stocky.cli import main

    main(["create-admin", *sys.argv[1:]])
