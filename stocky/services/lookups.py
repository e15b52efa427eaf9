"""The queue of product lookups waiting for the lookup worker.

Services put item ids here (a new barcode, "look up again"); the worker of
``stocky.services.lookup_worker`` takes them off. A scan only ever enqueues,
so a slow product service can never slow a scan down.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

log = logging.getLogger("stocky.lookup")

DEFAULT_CAPACITY = 10_000


class LookupQueue:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._queue: asyncio.Queue[uuid.UUID] = asyncio.Queue(maxsize=capacity)
        self._waiting: set[uuid.UUID] = set()

    def __len__(self) -> int:
        return self._queue.qsize()

    def __contains__(self, item_id: uuid.UUID) -> bool:
        return item_id in self._waiting

    def enqueue(self, item_id: uuid.UUID) -> bool:
        """Queue ``item_id`` unless it is already waiting; False when full
        (the item stays ``pending`` and is queued again at the next start)."""
        if item_id in self._waiting:
            return True
        try:
            self._queue.put_nowait(item_id)
        except asyncio.QueueFull:
            log.warning("The lookup queue is full; item %s waits for the next start", item_id)
            return False
        self._waiting.add(item_id)
        return True

    async def next(self) -> uuid.UUID:
        item_id = await self._queue.get()
        self._waiting.discard(item_id)
        return item_id

    def done(self) -> None:
        self._queue.task_done()

    async def join(self) -> None:
        await self._queue.join()
