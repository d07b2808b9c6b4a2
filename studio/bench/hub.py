"""`studio bench hub`: many simulated viewers on real WebSockets -> the embedded hub -> one host.

The hub runs in its own process (multiprocessing, spawn) so it does not share a GIL with the load
generator; the generator runs every viewer as an asyncio task in this process, plus the host
connection that receives. Latency is viewer send -> host receive, from a ``ts`` stamped into each
message (``time.monotonic``, one clock: both ends live in this process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.connection
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

    server = HubServer(HubConfig(rate=rate, burst=burst, max_viewers=viewers + 16, host_backlog=1_000_000))
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


async def _load(args: argparse.Namespace, conn: multiprocessing.connection.Connection, port: int, token: str) -> dict[str, Any]:
    from websockets.asyncio.client import ClientConnection, connect

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
    limit = asyncio.Semaphore(64)

    async def open_viewer(i: int) -> ClientConnection:
        async with limit:
            ws = await connect(
                f"{base}/viewer?nick=bench{i}", max_queue=None, compression=None, proxy=None, open_timeout=60
            )
            await ws.recv()  # welcome
            return ws

    t0 = time.perf_counter()
    viewers = await asyncio.gather(*(open_viewer(i) for i in range(args.viewers)))
    connect_s = time.perf_counter() - t0

    interval = 1.0 / args.rate
    per_viewer = max(1, round(args.seconds * args.rate))
    conn.send("mark")
    cpu0 = time.process_time()
    start = time.monotonic() + 0.2  # the first message is due then

    async def viewer_task(i: int, ws: ClientConnection) -> None:
        due = start + interval * i / len(viewers)  # spread viewers evenly over one interval
        for k in range(per_viewer):
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(f'{{"type":"danmaku","text":"bench {i} {k}","ts":{time.monotonic()!r}}}')
            state["sent"] += 1
            due += interval

    await asyncio.gather(*(viewer_task(i, ws) for i, ws in enumerate(viewers)))
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


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.viewers < 1 or args.seconds <= 0 or args.rate <= 0:
        raise ValueError("bench hub: --viewers, --seconds and --rate must be positive")
    _raise_fd_limit()
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
