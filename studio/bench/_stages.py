"""Where the latency goes: per-frame times at each stage of the live path, for `studio bench latency`.

    composite -> encoded -> sent -> relay in -> relay out -> displayed

Every stage but the last is timed in this process with one clock (``time.perf_counter_ns``),
by wrapping, while the benchmark runs and for it only, the points each video frame passes:

- encoded: ``WhipOutput.put`` (the encoder thread hands the frame to the stream; the packet
  carries its composite time and its pts);
- sent: the WHIP sender's ``EncodedPacketTrack.recv`` returning (aiortc takes the frame to packetise
  and send it);
- relay in: ``RelayStream.publish`` (the relay has the whole frame from its ingest);
- relay out: a relay viewer's ``EncodedPacketTrack.recv`` returning (the relay's sender takes it).

Frames are matched by pts: the relay sees RTP timestamps, which differ from the sender's pts (in
90 kHz units) by one constant (aiortc's random origin), found as the most common difference.
Composite and displayed come from the stamp in the picture (wall-clock ms at composite, read by the
receiver when the frame is shown) and are put on the same clock through one wall/perf offset.
Per-stage means add up to the mean total exactly; medians are given beside them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from scenes.stamp import VALUE_BITS
from studio.outputs.whip import WhipOutput
from studio.services.layers import LOW_SUFFIX
from studio.services.relay import RelayStream
from studio.webrtc.packet_track import EncodedPacketTrack

_RTP = 1 << 32
STAGES = ("composite_to_encoded", "encoded_to_sent", "sent_to_relay_in", "relay_in_to_relay_out",
          "relay_out_to_displayed")


def _is_low_layer(name_or_url: str) -> bool:
    return name_or_url.rstrip("/").endswith(LOW_SUFFIX)


def _ticks_90k(pts: int, time_base: Fraction | None) -> int:
    return int(pts if time_base is None else round(pts * time_base * 90_000)) % _RTP


class StageProbe:
    def __init__(self) -> None:
        self.encoded: dict[int, tuple[int, int]] = {}  # 90 kHz pts -> (capture ns, encoded ns)
        self.sent: dict[int, int] = {}  # 90 kHz pts -> ns
        self.relay_in: list[tuple[int, int]] = []  # (RTP timestamp, ns)
        self.relay_out: dict[int, int] = {}  # RTP timestamp -> ns
        self._viewer_tracks: set[int] = set()
        self._sender_tracks: set[int] = set()
        self._restore: list[Callable[[], None]] = []
        # one offset puts wall-clock ms (stamps, browser display times) on the perf_counter clock
        self.wall_minus_perf_ns = time.time_ns() - time.perf_counter_ns()

    def __enter__(self) -> StageProbe:
        probe = self
        put, recv, publish = WhipOutput.put, EncodedPacketTrack.recv, RelayStream.publish

        def traced_put(output: WhipOutput, packet: Any) -> None:
            # the main layer only: the relay's low layer carries the same pictures (same timestamps)
            if packet.kind == "video" and not _is_low_layer(output.config.url):
                probe.encoded[_ticks_90k(packet.pts, packet.time_base)] = (packet.capture_ns, time.perf_counter_ns())
                track = output._tracks.get("video")
                if track is not None:
                    probe._sender_tracks.add(id(track))
            put(output, packet)

        async def traced_recv(track: EncodedPacketTrack) -> Any:
            packet = await recv(track)
            if track.kind == "video" and packet is not None and packet.pts is not None:
                now = time.perf_counter_ns()
                if id(track) in probe._viewer_tracks:
                    probe.relay_out.setdefault(int(packet.pts) % _RTP, now)
                elif id(track) in probe._sender_tracks:
                    probe.sent.setdefault(_ticks_90k(int(packet.pts), packet.time_base), now)
            return packet

        def traced_publish(stream: RelayStream, ingest_id: str, kind: str, packet: Any) -> None:
            arrived = time.perf_counter_ns()
            if _is_low_layer(stream.name):
                publish(stream, ingest_id, kind, packet)
                return
            if kind == "video":
                for viewer in stream.viewers.values():
                    track = viewer.tracks.get("video")
                    if track is not None:
                        probe._viewer_tracks.add(id(track))
            publish(stream, ingest_id, kind, packet)
            # read the timestamp after publish: it rebases it onto the viewers' timeline (an ingest
            # that replaced another continues where that one ended), which is what viewers get
            if kind == "video" and packet.pts is not None:
                probe.relay_in.append((int(packet.pts) % _RTP, arrived))

        WhipOutput.put = traced_put  # type: ignore[method-assign,assignment]
        EncodedPacketTrack.recv = traced_recv  # type: ignore[method-assign,assignment]
        RelayStream.publish = traced_publish  # type: ignore[method-assign,assignment]

        def restore() -> None:
            WhipOutput.put = put  # type: ignore[method-assign,assignment]
            EncodedPacketTrack.recv = recv  # type: ignore[method-assign,assignment]
            RelayStream.publish = publish  # type: ignore[method-assign,assignment]

        self._restore.append(restore)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._restore:
            self._restore.pop()()

    def _rtp_origin(self) -> int | None:
        """The constant RTP timestamp - sender pts, from frames sent and received close in time."""
        sent = sorted((t, pts) for pts, t in self.sent.items())
        if not sent or not self.relay_in:
            return None
        times = np.asarray([t for t, _ in sent], dtype=np.int64)
        votes: Counter[int] = Counter()
        for rtp, t_in in self.relay_in:
            i = int(np.searchsorted(times, t_in, side="right")) - 1  # the last frame sent before
            if i >= 0:
                votes[(rtp - sent[i][1]) % _RTP] += 1
        if not votes:
            return None
        # On a busy machine a frame often reaches the relay after the next one was sent, so the vote
        # can be a frame or two off. The true origin is causal (nothing arrives before it was sent)
        # with the shortest delays: try the vote's neighbours and keep the one that fits that best.
        sent_at = {pts: t for t, pts in sent}
        step = max(1, self._frame_ticks())

        def fit(origin: int) -> tuple[float, float]:
            delays = [t_in - sent_at[(rtp - origin) % _RTP] for rtp, t_in in self.relay_in
                      if (rtp - origin) % _RTP in sent_at]
            if not delays:
                return (1.0, float("inf"))
            acausal = sum(d < 0 for d in delays) / len(delays)
            return (acausal, float(np.median([d for d in delays if d >= 0] or [0])))

        voted = votes.most_common(1)[0][0]
        return min(((voted + k * step) % _RTP for k in range(-3, 4)), key=fit)

    def _frame_ticks(self) -> int:
        """One frame in 90 kHz ticks, from the encoded frames' timestamps."""
        ticks = sorted(self.encoded)
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False) if b > a]
        return int(np.median(gaps)) if gaps else 3000

    def breakdown(self, displayed: list[tuple[int, float]]) -> dict[str, Any]:
        """``displayed``: (stamp value, wall-clock ms when shown) per frame the receiver read."""
        origin = self._rtp_origin()
        if origin is None or not displayed:
            return {"frames_traced": 0}
        relay_in = {(rtp - origin) % _RTP: (rtp, t) for rtp, t in self.relay_in}
        # frames by composite time (wall ms, modulo the stamp's wrap) to find what was displayed
        by_stamp: dict[int, int] = {}
        for pts, (capture_ns, _) in self.encoded.items():
            if capture_ns:
                by_stamp[(capture_ns + self.wall_minus_perf_ns) // 1_000_000 % (1 << VALUE_BITS)] = pts
        stamps = np.asarray(sorted(by_stamp), dtype=np.int64)
        rows: list[list[float]] = []
        for value, shown_ms in displayed:
            if stamps.size == 0:
                break
            i = int(np.searchsorted(stamps, value))
            near = [j for j in (i - 1, i) if 0 <= j < stamps.size]
            j = min(near, key=lambda k: abs(int(stamps[k]) - value))
            if abs(int(stamps[j]) - value) > 10:  # the stamp is taken in tick, capture after composite
                continue
            pts = by_stamp[int(stamps[j])]
            sent, got = self.sent.get(pts), relay_in.get(pts)
            if sent is None or got is None:
                continue
            out = self.relay_out.get(got[0])
            if out is None:
                continue
            # the stamp is wall-clock ms modulo 2**44 (557 years): today's values have not wrapped
            composite_ns = value * 1_000_000 - self.wall_minus_perf_ns
            shown_ns = shown_ms * 1e6 - self.wall_minus_perf_ns
            _, encoded_ns = self.encoded[pts]
            marks = [composite_ns, encoded_ns, sent, got[1], out, shown_ns]
            rows.append([(b - a) / 1e6 for a, b in zip(marks, marks[1:], strict=False)])
        if not rows:
            return {"frames_traced": 0}
        table = np.asarray(rows, dtype=np.float64)
        total = table.sum(axis=1)
        # the slowest tenth of the frames (total at or over its p90): where a p95 frame loses its time
        tail = table[total >= np.percentile(total, 90)]
        stages = {
            name: {"mean_ms": round(float(table[:, k].mean()), 2), "p50_ms": round(float(np.median(table[:, k])), 2),
                   "p95_ms": round(float(np.percentile(table[:, k], 95)), 2),
                   "slowest_tenth_mean_ms": round(float(tail[:, k].mean()), 2)}
            for k, name in enumerate(STAGES)
        }
        return {
            "frames_traced": len(rows),
            "stages": stages,
            "total": {"mean_ms": round(float(total.mean()), 2), "p50_ms": round(float(np.median(total)), 2),
                      "p95_ms": round(float(np.percentile(total, 95)), 2),
                      "slowest_tenth_mean_ms": round(float(tail.sum(axis=1).mean()), 2)},
            "note": "per-stage means add up to the mean total; slowest_tenth: frames whose total is >= its p90",
        }
