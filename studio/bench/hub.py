"""`studio bench hub`: many simulated viewers on real WebSockets -> the embedded hub -> the studio.

Two configurations side by side:

- ``in_process`` (as a Show runs it): the hub with the product's limits and the interaction service
  (moderation) reading it share one ``studio.net.NetLoop`` thread in this process; the viewers run
  in another process. Latency is viewer send -> the service's danmaku event.
- ``separate_process``: the hub in its own process (multiprocessing, spawn) with limits loosened to
  twice the sending rate, the viewers and one raw host connection in this process. Latency is
  viewer send -> host receive.

Each message carries its send time (``time.monotonic``: one system-wide clock on Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import threading
import time
from typing import Any

HELP = "embedded danmaku hub: N viewers x 5 msg/s over loopback WebSockets -> one host (loss, p95, CPU)"
TARGET = {"msg_per_s": 5000, "lost": 0, "p95_ms": 50.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--viewers", type=int, default=1000, help="simulated viewers (default 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="sending time (default 10)")
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second per viewer (default 5)")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait for stragglers (default 5)")


def _raise_fd_limit() -> None:
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


# ---- the hub process ------------------------------------------------------------------------


def _hub_main(conn: multiprocessing.connection.Connection, rate: float, burst: float, viewers: int) -> None:
    _raise_fd_limit()
    asyncio.run(_hub_async(conn, rate, burst, viewers))


async def _hub_async(conn: multiprocessing.connection.Connection, rate: float, burst: float, viewers: int) -> None:
    from studio.interaction.hub import HubConfig, HubServer
    from studio.interaction.identity import DEFAULT_NEW_PER_MINUTE

    # every simulated viewer comes from 127.0.0.1: allow that many new identities (a venue's setting)
    server = HubServer(HubConfig(rate=rate, burst=burst, max_viewers=viewers + 16, host_backlog=1_000_000,
                                 new_identities_per_minute=max(DEFAULT_NEW_PER_MINUTE, 2.0 * viewers)))
    await server.start()
    conn.send(("ready", server.port, server.token))
    loop = asyncio.get_running_loop()
    marks: dict[str, tuple[float, float]] = {}
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        marks[command] = (time.process_time(), time.perf_counter())
        if command == "stop":
            break
    stats = server.stats().as_dict()
    await server.stop()
    cpu0, wall0 = marks.get("mark", marks["stop"])
    cpu1, wall1 = marks["stop"]
    conn.send(("stats", stats, cpu1 - cpu0, wall1 - wall0))


# ---- the load generator ---------------------------------------------------------------------


async def open_viewers(base: str, count: int, tokens: list[str] | None = None) -> list[Any]:
    """``count`` viewer connections, 64 opening at a time, each past its welcome frame; with
    ``tokens``, viewer ``i`` comes back with its kept viewer token ``tokens[i]``."""
    from websockets.asyncio.client import connect

    limit = asyncio.Semaphore(64)

    async def open_viewer(i: int) -> Any:
        async with limit:
            token = f"&vt={tokens[i]}" if tokens else ""
            ws = await connect(
                f"{base}/viewer?nick=bench{i}{token}", max_queue=None, compression=None, proxy=None, open_timeout=60
            )
            await ws.recv()  # welcome
            return ws

    return list(await asyncio.gather(*(open_viewer(i) for i in range(count))))


async def send_from(viewers: list[Any], seconds: float, rate: float, start: float) -> int:
    """Every viewer sends ``rate`` danmaku a second from ``start`` (monotonic), spread evenly over
    one interval; each carries its send time (``ts``). Returns how many were sent."""
    interval = 1.0 / rate
    per_viewer = max(1, round(seconds * rate))
    sent = 0

    async def viewer_task(i: int, ws: Any) -> None:
        nonlocal sent
        due = start + interval * i / len(viewers)
        for k in range(per_viewer):
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(f'{{"type":"danmaku","text":"bench {i} {k}","ts":{time.monotonic()!r}}}')
            sent += 1
            due += interval

    await asyncio.gather(*(viewer_task(i, ws) for i, ws in enumerate(viewers)))
    return sent




async def _load(args: argparse.Namespace, conn: multiprocessing.connection.Connection, port: int, token: str) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    base = f"ws://127.0.0.1:{port}"
    latencies: list[float] = []
    state = {"delivered": 0, "sent": 0, "expected": -1, "last_rx": 0.0}
    drained = asyncio.Event()

    host = await connect(
        base + "/host", additional_headers={"Authorization": f"Bearer {token}"}, max_size=None,
        max_queue=None, compression=None, proxy=None,
    )  # fmt: skip

    async def host_reader() -> None:
        async for raw in host:
            now = time.monotonic()
            obj = json.loads(raw)
            for item in obj["messages"] if obj["type"] == "batch" else [obj]:
                if item["type"] != "danmaku":
                    continue
                latencies.append(now - item["sent_at"])
                state["delivered"] += 1
            state["last_rx"] = now
            if state["delivered"] == state["expected"]:
                drained.set()

    reader = asyncio.create_task(host_reader())
    t0 = time.perf_counter()
    viewers = await open_viewers(base, args.viewers)
    connect_s = time.perf_counter() - t0

    conn.send("mark")
    cpu0 = time.process_time()
    start = time.monotonic() + 0.2  # the first message is due then
    state["sent"] = await send_from(viewers, args.seconds, args.rate, start)
    send_s = time.monotonic() - start
    state["expected"] = state["sent"]
    if state["delivered"] >= state["sent"]:
        drained.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(drained.wait(), args.drain)
    active_s = max(send_s, state["last_rx"] - start)
    loadgen_cpu = time.process_time() - cpu0

    conn.send("stop")
    await asyncio.gather(*(ws.close() for ws in viewers), return_exceptions=True)
    await host.close()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    return {
        "connect_s": connect_s,
        "send_s": send_s,
        "active_s": active_s,
        "sent": state["sent"],
        "delivered": state["delivered"],
        "latencies": latencies,
        "loadgen_cpu": loadgen_cpu,
    }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


# ---- in process: the hub and the interaction service on the shared net loop, as a Show runs ----


def _audience_main(conn: multiprocessing.connection.Connection, port: int, viewers: int, seconds: float,
                   rate: float, tokens: list[str] | None = None) -> None:
    """The viewers, in their own process (they are other people's machines): connect, wait for
    "go", send, report what was sent, wait for "close"."""
    _raise_fd_limit()
    asyncio.run(_audience(conn, port, viewers, seconds, rate, tokens))


async def _audience(conn: multiprocessing.connection.Connection, port: int, count: int, seconds: float,
                    rate: float, tokens: list[str] | None = None) -> None:
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    viewers = await open_viewers(f"ws://127.0.0.1:{port}", count, tokens)
    conn.send(("ready", time.perf_counter() - t0))
    await loop.run_in_executor(None, conn.recv)  # go
    start = time.monotonic() + 0.2
    cpu0 = time.process_time()
    sent = await send_from(viewers, seconds, rate, start)
    conn.send(("sent", sent, time.monotonic() - start, time.process_time() - cpu0))
    await loop.run_in_executor(None, conn.recv)  # close
    await asyncio.gather(*(ws.close() for ws in viewers), return_exceptions=True)


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    """The hub with the product's limits (per-viewer rate, burst, message limits) and the
    interaction service (moderation) reading it, both on one ``NetLoop`` in this process as the
    Show runs them; the audience in another process. Latency: viewer send -> the service's
    danmaku event (``time.monotonic`` is one system-wide clock on Linux)."""
    from studio.interaction.adapters import WebSocketAdapter
    from studio.interaction.hub import HubConfig, HubServer
    from studio.interaction.moderation import DanmakuEvent
    from studio.interaction.service import InteractionService
    from studio.net import NetLoop

    net = NetLoop("net")
    net.start()
    # the product's limits, new identities per address (3 a minute) included: every simulated viewer
    # comes from 127.0.0.1, so each is a returning viewer with the token its page kept, as a real
    # crowd is (tokens signed by this hub's secret before the audience connects)
    config = HubConfig(max_viewers=max(HubConfig().max_viewers, args.viewers + 16))
    hub = HubServer(config)
    tokens = [hub.core.identities.issue()[1] for _ in range(args.viewers)]
    latencies: list[float] = []
    state = {"delivered": 0, "visible": 0, "last_rx": 0.0}
    drained = threading.Event()
    expected = [-1]

    def on_danmaku(event: DanmakuEvent) -> None:  # net thread
        now = time.monotonic()
        if event.message.sent_at is not None:
            latencies.append(now - event.message.sent_at)
        state["delivered"] += 1
        state["visible"] += event.visible
        state["last_rx"] = now
        if state["delivered"] == expected[0]:
            drained.set()

    service: InteractionService | None = None
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = None
    try:
        net.run(hub.start(), 30)
        adapter = WebSocketAdapter(hub.host_url, token=hub.token)
        service = InteractionService(adapter, net=net)
        service.danmaku.connect(on_danmaku)
        service.start()
        net.run(asyncio.wait_for(adapter.connected.wait(), 30), 35)
        proc = ctx.Process(target=_audience_main,
                           args=(child, hub.port, args.viewers, args.seconds, args.rate, tokens),
                           name="bench-audience", daemon=True)
        proc.start()
        if not parent.poll(120):
            raise RuntimeError("bench hub: the audience did not connect within 120 s")
        _, connect_s = parent.recv()
        cpu0, wall0 = time.process_time(), time.monotonic()
        parent.send("go")
        if not parent.poll(args.seconds + 120):
            raise RuntimeError("bench hub: the audience did not finish sending")
        _, sent, send_s, audience_cpu = parent.recv()
        expected[0] = sent
        if state["delivered"] >= sent:
            drained.set()
        drained.wait(args.drain)
        active_s = max(send_s, state["last_rx"] - wall0 - 0.2)
        cpu = time.process_time() - cpu0

        async def snapshot() -> dict[str, Any]:
            return hub.stats().as_dict()

        stats = net.run(snapshot(), 10)
        parent.send("close")
    finally:
        if proc is not None:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()
                proc.join(10)
        if service is not None:
            service.stop()
        with contextlib.suppress(Exception):
            net.run(hub.stop(), 30)
        net.stop()
    lat_ms = [x * 1000 for x in latencies]
    p95 = _percentile(lat_ms, 0.95)
    delivered = state["delivered"]
    msg_per_s = delivered / active_s if active_s > 0 else 0.0
    return {
        "configuration": "hub + interaction service (moderation) on one NetLoop in this process; audience in another",
        "hub_limits": {"rate": config.rate, "burst": config.burst,
                       "new_identities_per_minute": config.new_identities_per_minute},
        "viewer_identities": "pre-signed viewer tokens (returning viewers): the product's limit of "
                             f"{config.new_identities_per_minute:g} new identities per address a minute stays on",
        "connect_s": round(connect_s, 3),
        "sent": sent,
        "delivered": delivered,
        "visible": state["visible"],
        "lost": sent - delivered,
        "msg_per_s": round(msg_per_s, 1),
        "p50_ms": round(_percentile(lat_ms, 0.50), 2),
        "p95_ms": round(p95, 2),
        "p99_ms": round(_percentile(lat_ms, 0.99), 2),
        "max_ms": round(max(lat_ms), 2) if lat_ms else float("nan"),
        "studio_process_cpu": round(cpu / active_s, 3) if active_s > 0 else 0.0,
        "audience_cpu": round(audience_cpu / send_s, 3) if send_s > 0 else 0.0,
        "hub_stats": stats,
        "meets_target": msg_per_s >= TARGET["msg_per_s"] * 0.98 and sent == delivered and p95 <= TARGET["p95_ms"],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.viewers < 1 or args.seconds <= 0 or args.rate <= 0:
        raise ValueError("bench hub: --viewers, --seconds and --rate must be positive")
    _raise_fd_limit()
    shared = in_process(args)
    separate = _separate_process(args)
    # top level: the separate-process figures (as before); the product's configuration beside them
    return {**separate, "configuration": "separate_process", "in_process": shared}


def _separate_process(args: argparse.Namespace) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    # the limit the bench load must pass: twice the sending rate, with room for scheduling bursts
    rate, burst = args.rate * 2, max(10.0, args.rate * 4)
    proc = ctx.Process(target=_hub_main, args=(child, rate, burst, args.viewers), name="bench-hub", daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("bench hub: the hub process did not start within 60 s")
        _, port, token = parent.recv()
        load = asyncio.run(_load(args, parent, port, token))
        if not parent.poll(60):
            raise RuntimeError("bench hub: the hub process did not report its stats")
        _, stats, hub_cpu_s, hub_wall_s = parent.recv()
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)
    lat_ms = [x * 1000 for x in load["latencies"]]
    lost = load["sent"] - load["delivered"]
    msg_per_s = load["delivered"] / load["active_s"] if load["active_s"] > 0 else 0.0
    p95 = _percentile(lat_ms, 0.95)
    result = {
        "viewers": args.viewers,
        "seconds": args.seconds,
        "rate_per_viewer": args.rate,
        "hub_rate_limit": {"rate": rate, "burst": burst},
        "connect_s": round(load["connect_s"], 3),
        "sent": load["sent"],
        "delivered": load["delivered"],
        "lost": lost,
        "msg_per_s": round(msg_per_s, 1),
        "offered_msg_per_s": round(load["sent"] / load["send_s"], 1) if load["send_s"] > 0 else 0.0,
        "p50_ms": round(_percentile(lat_ms, 0.50), 2),
        "p95_ms": round(p95, 2),
        "p99_ms": round(_percentile(lat_ms, 0.99), 2),
        "max_ms": round(max(lat_ms), 2) if lat_ms else float("nan"),
        "hub_cpu": round(hub_cpu_s / hub_wall_s, 3) if hub_wall_s > 0 else 0.0,
        "loadgen_cpu": round(load["loadgen_cpu"] / load["active_s"], 3) if load["active_s"] > 0 else 0.0,
        "hub_stats": stats,
        "target": TARGET,
    }
    result["meets_target"] = (
        msg_per_s >= TARGET["msg_per_s"] * 0.98 and lost <= TARGET["lost"] and p95 <= TARGET["p95_ms"]
    )
    return result


if __name__ == "__main__":  # python -m studio.bench.hub (until the CLI wires it in)
    cli = argparse.ArgumentParser(description=HELP)
    add_arguments(cli)
    cli.add_argument("--json", action="store_true", help="print JSON (always does)")
    print(json.dumps(run(cli.parse_args()), indent=2))
