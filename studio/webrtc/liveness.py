"""Notice within seconds that the receiver of a sending WebRTC session is gone.

aiortc only gives a peer up when ICE consent fails, about 30 s after the last answer: a WHIP
server killed with SIGKILL leaves the studio saying "live" all that time. A live receiver sends
RTCP for as long as media reaches it (receiver reports every 0.5-1.5 s from aiortc, about every
second from browsers, plus REMB/NACK/PLI), so a few seconds without any RTCP means the far end is
gone (or the path to it is).

The watch arms only once the receiver has sent its first RTCP: a receiver that never reports
(no media sent yet, a server without RTCP) is left to ICE. Silence is counted only over time the
event loop was awake (each tick adds at most ``2 * poll_s``), so a loop stalled by a busy machine
cannot fake a silence that the receiver did not make. A receiver that reports more slowly (RFC 3550
allows 5 s; libwebrtc uses 5 s for audio-only streams) gets a longer allowance: 2.5 times its
median interval, at most ``max_silence_s`` (also the allowance until the first interval is known,
in the first second or so of a session).

Silence alone cannot tell a dead server from a dead media path: a few seconds of UDP loss (a
mobile handover, a Wi-Fi roam) silence a receiver that is still there, and tearing that session
down costs a new POST, ICE, DTLS and a keyframe (about 2 s) where NACK/PLI would have recovered it
in well under one. So :func:`wait_until_dead` asks the server over HTTP once the silence is long
enough: a server that does not answer (refused, reset, timeout: killed, crashed) ends the session
at once; one that answers keeps it, asked again every ``probe_every_s``, until the silence reaches
``reachable_silence_s`` (the media path is not coming back: a new session, maybe a new path).
"""

from __future__ import annotations

import asyncio
import statistics
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

DEFAULT_SILENCE_S = 3.0  # two to six receiver-report intervals
DEFAULT_POLL_S = 0.25
DEFAULT_MAX_SILENCE_S = 10.0
# Silent media while the server still answers HTTP: how long to keep the session for NACK/PLI to
# recover it. Default: no longer than the silence threshold, i.e. reconnect right after the probe.
# Keeping it (e.g. 10 s) recovered a 3 s UDP blackout in 0.7 s in one bench run, but in two of four
# runs on a loaded machine a viewer of the relay never got pictures back after a kept session (not
# understood yet); a reconnect always recovered. A stream that never comes back is the worse failure.
DEFAULT_REACHABLE_SILENCE_S = 3.0
DEFAULT_PROBE_EVERY_S = 1.0
INTERVALS_KEPT = 8


@dataclass
class FeedbackSilence:
    """Counts how long the receiver has been quiet, from the RTCP packet count seen at each tick."""

    silence_s: float = DEFAULT_SILENCE_S
    poll_s: float = DEFAULT_POLL_S
    max_silence_s: float = DEFAULT_MAX_SILENCE_S
    quiet_s: float = field(default=0.0, init=False)
    _packets: int = field(default=0, init=False)
    _last_tick: float | None = field(default=None, init=False)
    _intervals: deque[float] = field(default_factory=lambda: deque(maxlen=INTERVALS_KEPT), init=False)

    def __post_init__(self) -> None:
        if self.silence_s <= 0 or self.poll_s <= 0:
            raise ValueError("FeedbackSilence: silence_s and poll_s must be > 0")

    @property
    def armed(self) -> bool:
        return self._packets > 0

    @property
    def allowance_s(self) -> float:
        """How long a silence may last: ``silence_s``, longer for a receiver that reports slowly."""
        if not self._intervals:  # its pace is not known yet (the first second of a session)
            return max(self.silence_s, self.max_silence_s)
        typical = statistics.median(self._intervals)
        return min(max(self.silence_s, 2.5 * typical), max(self.silence_s, self.max_silence_s))

    def tick(self, packets: int, now: float) -> bool:
        """Note the receiver's RTCP count at ``now``; True once it has been silent for ``silence_s``."""
        last, self._last_tick = self._last_tick, now
        awake = min(max(0.0, now - last), 2 * self.poll_s) if last is not None else 0.0
        if packets != self._packets:
            if self.armed:
                self._intervals.append(self.quiet_s + awake)
            self._packets, self.quiet_s = packets, 0.0
            return False
        if not self.armed:
            return False
        self.quiet_s += awake
        return self.quiet_s >= self.allowance_s


async def wait_for_silence(rtcp_packets: Callable[[], int], silence_s: float = DEFAULT_SILENCE_S,
                           poll_s: float = DEFAULT_POLL_S) -> float:
    """Return the silence (seconds) once the receiver, having reported, stops reporting for ``silence_s``.

    ``rtcp_packets`` counts every RTCP packet the session's senders have received so far.
    """
    silence = FeedbackSilence(silence_s, poll_s)
    loop = asyncio.get_running_loop()
    while not silence.tick(rtcp_packets(), loop.time()):
        await asyncio.sleep(poll_s)
    return silence.quiet_s


async def wait_until_dead(rtcp_packets: Callable[[], int], server_answers: Callable[[], Awaitable[bool]],
                          silence_s: float = DEFAULT_SILENCE_S,
                          reachable_silence_s: float = DEFAULT_REACHABLE_SILENCE_S,
                          poll_s: float = DEFAULT_POLL_S, probe_every_s: float = DEFAULT_PROBE_EVERY_S,
                          on_resumed: Callable[[float], None] | None = None) -> str:
    """Return why the session is dead: silent for ``silence_s`` and the server does not answer
    ``server_answers()`` (which must give up by itself within a second or so), or silent for
    ``reachable_silence_s`` although it answers. RTCP coming back resets both and, after a silence
    that reached the threshold, calls ``on_resumed(silent seconds)``."""
    silence = FeedbackSilence(silence_s, poll_s)
    loop = asyncio.get_running_loop()
    next_probe: float | None = None
    while True:
        quiet_before = silence.quiet_s
        if not silence.tick(rtcp_packets(), loop.time()):
            if next_probe is not None and on_resumed is not None:  # it had been probed: a survived outage
                on_resumed(quiet_before)
            next_probe = None  # quiet again later: probe at once again
        elif next_probe is None or loop.time() >= next_probe:  # a dead server first, whatever the silence
            if not await server_answers():
                return f"no RTCP for {silence.quiet_s:.1f} s and the server does not answer"
            next_probe = loop.time() + probe_every_s
        elif silence.quiet_s >= reachable_silence_s:
            return f"no RTCP for {silence.quiet_s:.1f} s although the server answers HTTP"
        await asyncio.sleep(poll_s)
