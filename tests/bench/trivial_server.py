"""The floor for B1: the most trivial aiohttp handler that still does what
any scan endpoint must (read a JSON body, answer JSON), on a plain asyncio
loop in its own process, with no access log, no auth and no database."""

from __future__ import annotations

import argparse

from aiohttp import web


async def scan(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"result": "added", "message": f"Added {body.get('msg')}", "quantity": 1})


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/api/v1/scanner/scan", scan)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None,
                handle_signals=True, shutdown_timeout=1)


if __name__ == "__main__":
    main()
