"""The ``net`` thread: one asyncio loop for WHIP sessions, HTTP, websockets and embedded services."""

from studio.net.loop import NetLoop

__all__ = ["NetLoop"]
