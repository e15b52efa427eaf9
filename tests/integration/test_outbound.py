"""The guarded client every outside request goes through, against a real
aiohttp server on 127.0.0.1: what notifications and imports will rely on
beyond what the product lookup already shows (test_lookup_worker.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from stocky.core.outbound import MAX_REDIRECTS, OutboundClient, OutboundError

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[str]]]:
    """A service with a few answers; yields its address and the paths asked."""
    asked: list[str] = []

    @web.middleware
    async def record(request: web.Request, handler):
        asked.append(request.path)
        return await handler(request)

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000, content_type="application/octet-stream")

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b" " * 1000)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>sign in</html>", content_type="text/html")

    async def picture(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG...", content_type="image/png")

    async def products(request: web.Request) -> web.Response:
        return web.json_response([{"id": 1, "name": "Tea"}])  # Grocy answers lists

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app = web.Application(middlewares=[record])
    for path, handler in [("/big", big), ("/streamed", streamed), ("/page", page),
                          ("/picture", picture), ("/products", products), ("/loop", loop)]:
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", asked
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[OutboundClient]:
    async with OutboundClient(timeout=5.0) as made:
        yield made


async def test_each_call_has_its_own_size_cap(server, client):
    base, _ = server
    assert len(await client.get_bytes(f"{base}/big", max_bytes=5000)) == 5000

    with pytest.raises(OutboundError, match="larger than 0.004 MB") as refused:
        await client.get_bytes(f"{base}/big", max_bytes=4000)
    assert not refused.value.retry

    # Without a length announced, the answer is cut off once it grows too big.
    with pytest.raises(OutboundError, match="larger than 0.01 MB"):
        await client.get_json(f"{base}/streamed", max_bytes=10_000)


async def test_only_the_asked_for_kind_of_answer_is_taken(server, client):
    base, _ = server
    with pytest.raises(OutboundError, match="sent text/html instead of application/json"):
        await client.get_json(f"{base}/page")
    with pytest.raises(OutboundError, match="sent text/html instead of image/png"):
        await client.get_bytes(f"{base}/page", content_types=("image/png",))

    assert await client.get_bytes(f"{base}/picture", content_types=("image/png",)) == b"\x89PNG..."
    assert await client.get_json(f"{base}/products") == [{"id": 1, "name": "Tea"}]


async def test_a_redirect_loop_on_the_same_host_ends(server, client):
    base, asked = server
    with pytest.raises(OutboundError, match=f"redirected more than {MAX_REDIRECTS} times"):
        await client.get_json(f"{base}/loop")
    assert asked == ["/loop"] * (MAX_REDIRECTS + 1)


async def test_an_http_error_says_its_status_and_whether_to_try_again(server, client):
    base, _ = server
    with pytest.raises(OutboundError) as missing:
        await client.get_json(f"{base}/nothing-here")
    assert (missing.value.status, missing.value.retry) == (404, False)
    assert missing.value.reason == "refused the request (HTTP 404)"
