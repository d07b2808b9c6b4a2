"""Remote control clients for `studio bench control`, run in their own process so their CPU is
not counted against the show's (a Stream Deck or a web panel runs elsewhere too).

    python -m studio.bench._control_clients URL meters --clients 10 --seconds 10
    python -m studio.bench._control_clients URL rtt --requests 300 --scenes A,B

The password comes from the environment variable STUDIO_BENCH_CONTROL_PASSWORD (never argv).
Prints "ready" once connected and identified (the parent measures from then on), then one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from studio.control.auth import auth_response
from studio.control.protocol import EventSubscription

PASSWORD_ENV = "STUDIO_BENCH_CONTROL_PASSWORD"


async def _identify(ws: ClientConnection, subscriptions: int) -> None:
    hello = json.loads(await ws.recv())
    data: dict[str, Any] = {"rpcVersion": 1, "eventSubscriptions": subscriptions}
    auth = hello["d"].get("authentication")
    if auth is not None:
        data["authentication"] = auth_response(os.environ.get(PASSWORD_ENV, ""), auth["salt"], auth["challenge"])
    await ws.send(json.dumps({"op": 1, "d": data}))
    reply = json.loads(await ws.recv())
    if reply.get("op") != 2:
        raise RuntimeError(f"not identified: {reply}")


async def _meter_client(url: str, seconds: float, ready: asyncio.Barrier) -> int:
    async with connect(url, subprotocols=["obswebsocket.json"], max_size=None) as ws:  # type: ignore[list-item]
        await _identify(ws, int(EventSubscription.ALL | EventSubscription.INPUT_VOLUME_METERS))
        if await ready.wait() == 0:  # every client is in: the parent starts measuring now
            print("ready", flush=True)
        meters = 0
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), left))
            except TimeoutError:
                break
            if message["op"] == 5 and message["d"]["eventType"] == "InputVolumeMeters":
                meters += 1
        return meters


async def meters(url: str, clients: int, seconds: float) -> dict[str, Any]:
    ready = asyncio.Barrier(clients)
    counts = await asyncio.gather(*(_meter_client(url, seconds, ready) for _ in range(clients)))
    return {"clients": clients, "meter_events": list(counts),
            "meter_events_per_s": round(sum(counts) / max(1, clients) / seconds, 1)}


async def rtt(url: str, requests: int, scenes: list[str], gap_ms: float) -> dict[str, Any]:
    async with connect(url, subprotocols=["obswebsocket.json"]) as ws:  # type: ignore[list-item]
        await _identify(ws, 0)
        # cuts: the program switches without a transition composited for each request, so the
        # figures are the request path's (a fade per request would be the compositor's cost)
        await ws.send(json.dumps({"op": 6, "d": {"requestType": "SetCurrentSceneTransition", "requestId": "cut",
                                                 "requestData": {"transitionName": "Cut"}}}))
        await ws.recv()
        print("ready", flush=True)
        times: dict[str, list[float]] = {"GetSceneList": [], "SetCurrentProgramScene": []}
        failures = 0
        for i in range(requests):
            for request_type in times:
                data = {"sceneName": scenes[i % len(scenes)]} if request_type.startswith("Set") else None
                d: dict[str, Any] = {"requestType": request_type, "requestId": f"{request_type}-{i}"}
                if data:
                    d["requestData"] = data
                t0 = time.perf_counter_ns()
                await ws.send(json.dumps({"op": 6, "d": d}))
                while True:  # events are not subscribed; only the response comes back
                    reply = json.loads(await ws.recv())
                    if reply["op"] == 7:
                        break
                times[request_type].append((time.perf_counter_ns() - t0) / 1e6)
                failures += not reply["d"]["requestStatus"]["result"]
            await asyncio.sleep(gap_ms / 1000)  # a panel's pace, not a tight loop
    out: dict[str, Any] = {"requests": requests, "failures": failures}
    for request_type, samples in times.items():
        ordered = sorted(samples)
        out[request_type] = {"rtt_ms_p50": round(ordered[len(ordered) // 2], 3),
                             "rtt_ms_p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3),
                             "rtt_ms_max": round(ordered[-1], 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("mode", choices=("meters", "rtt"))
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--scenes", default="")
    p.add_argument("--gap-ms", type=float, default=20.0)
    args = p.parse_args(argv)
    if args.mode == "meters":
        result = asyncio.run(meters(args.url, args.clients, args.seconds))
    else:
        result = asyncio.run(rtt(args.url, args.requests, args.scenes.split(","), args.gap_ms))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
