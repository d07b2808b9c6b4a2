"""`studio headless`: the show without a window, optionally recording and streaming.

With ``local_show`` (what `studio` does when there is no display) it also streams the program to
the embedded relay and prints the viewer URL.

Every status line goes through ``studio.secrets.redact`` (a server may echo the token in an error).
While streaming, a compact network line follows once a second (``stream_line``). The exit code is 1
when the stream failed for good (a refused token, no endpoint); a failed stream with nothing else to
do (no recording, rundown or local show) ends the run at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from scenes.model import SceneCollection
from studio.catalogue.files import catalogue_ids
from studio.control.password import ensure_password
from studio.control.server import DEFAULT_PORT, LOCAL_HOST, ControlConfig
from studio.display import use_offscreen_qt
from studio.events import ClockStats
from studio.headless_destinations import destination_line, destinations_from_args
from studio.interaction.adapters import Adapter
from studio.net.ports import can_listen
from studio.outputs.destinations import DestinationStats
from studio.outputs.health import network_health
from studio.outputs.output_plan import plan_outputs
from studio.outputs.output_scaling import DEFAULT_STREAM_MAX_HEIGHT, check_stream_max_height
from studio.outputs.pipeline import PipelineStats
from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats
from studio.rundown.persistence import load_rundown
from studio.rundown.preflight import MissingProduct, Problem, missing_products, preflight_file
from studio.secrets import Secret, SecretStoreError, redact
from studio.session import open_collection
from studio.show import Show


def say(text: str) -> None:
    """One status line for the user, never with a token in it."""
    print(redact(text), flush=True)


def _kbps(bps: int | None) -> str:
    return f"{bps / 1000:.0f}" if bps else "-"


def stream_line(stats: WhipStats, state: OutputState | None) -> str:
    """The once-a-second network line: health, bitrates, RTT, loss, NACKs, retransmissions, ladder."""
    health = network_health(stats, state)
    level = health.level.value if health is not None else "-"
    if state is not None and state.state is not OutputStatus.LIVE:  # the last figures are stale
        return f"studio: net {level}" + (f" ({health.summary()})" if health is not None and health.reasons else "")
    rtt = f"{stats.rtt_ms:.0f} ms" if stats.rtt_ms is not None else "-"
    age = f" fb {stats.feedback_age_s:.1f} s" if stats.feedback_age_s is not None else ""
    ladder = f" ladder {stats.ladder_step}" if stats.ladder_step else ""
    red = f" red {stats.audio_red_copies}" if stats.audio_red_copies is not None else ""
    why = f" ({health.summary()})" if health is not None and health.reasons else ""
    return (f"studio: net {level}{why}  {_kbps(stats.bitrate_bps)}/{_kbps(stats.target_bitrate_bps)} kb/s"
            f" (max {_kbps(stats.max_bitrate_bps)}, delay {_kbps(stats.delay_target_bps)},"
            f" loss {_kbps(stats.loss_target_bps)})  rtt {rtt}  loss {stats.packet_loss_pct:.1f} %"
            f"  nack {stats.nacks} rtx {stats.retransmissions} unanswered {stats.nacks_unanswered}"
            f"  pli {stats.plis}{ladder}{red}{age}")


def report_preflight(rundown: Path, collection: SceneCollection, products: list[str] | None = None) -> int:
    """Before going live: every clip and image the rundown (all branches) and the scenes can reach,
    and (with the catalogue's ``products``) cards and product moments naming a product it lacks;
    one line per problem. Returns the number of problems."""
    problems: list[Problem | MissingProduct] = [*preflight_file(rundown, collection)]
    if products is not None:
        with contextlib.suppress(OSError, ValueError):  # preflight_file has said why the rundown does not load
            problems += missing_products(load_rundown(rundown), collection, set(products))
    for problem in problems:
        say(f"studio: pre-flight: {problem}")
    say(f"studio: pre-flight: {len(problems)} problem(s)" if problems else "studio: pre-flight: every file plays")
    return len(problems)


def control_config(args: argparse.Namespace) -> ControlConfig | None:
    """``--control-port`` (0: off; absent: 4455 when free) and ``--control-password-env``; without the
    latter the keyring's password (generated on first use) guards it."""
    if not hasattr(args, "control_port"):
        return None  # a programmatic run that did not ask for remote control
    port = args.control_port
    if port == 0:
        return None
    if port is None:
        if not can_listen(LOCAL_HOST, DEFAULT_PORT):
            say(f"studio: remote control off: port {DEFAULT_PORT} is in use (pass --control-port)")
            return None
        port = DEFAULT_PORT
    env = getattr(args, "control_password_env", None)
    if env:
        value = os.environ.get(env)
        if not value:
            raise ValueError(f"--control-password-env: the environment variable {env} is empty or not set")
        password = Secret(value)
    else:
        try:
            password = ensure_password()
        except SecretStoreError as exc:  # no keyring and no writable data folder: say so, show goes on
            say(f"studio: remote control off: {exc} (pass --control-password-env)")
            return None
    return ControlConfig(port=port, password=password)


def chat_adapters(specs: list[str]) -> list[Adapter]:
    """``--chat`` sources (bilibili:ROOM[?url=…], douyin-push:PORT), secrets from the store."""
    from studio.interaction.chat_sources import build_adapter, parse_chat_spec

    return [build_adapter(parse_chat_spec(spec)) for spec in specs]


def run_headless(args: argparse.Namespace, local_show: bool = False) -> int:
    use_offscreen_qt()
    collection, path = open_collection(args.collection, args.scene)
    if getattr(args, "rundown", None) is not None \
            and report_preflight(Path(args.rundown), collection, catalogue_ids(path)) \
            and getattr(args, "strict", False):
        print("studio: not going live (--strict): fix the files above, or run without --strict",
              file=sys.stderr, flush=True)
        return 2
    try:
        stream_cap = check_stream_max_height(getattr(args, "stream_max_height", None))
    except ValueError as exc:
        print(f"studio: --stream-max-height: {exc}", file=sys.stderr, flush=True)
        return 2
    streams = [args.stream] if isinstance(args.stream, str) else list(args.stream or [])
    destinations = destinations_from_args(streams, args.token_env, getattr(args, "key_env", None))
    control = control_config(args)
    chat = chat_adapters(getattr(args, "chat", None) or [])
    show_log = getattr(args, "show_log", None)
    show = Show(collection, serve_locally=local_show or not streams, control=control, chat=chat,
                show_log=Path(show_log) if show_log is not None else None)
    show.pipeline.stream_max_height = stream_cap
    for source in chat:
        say(f"studio: chat from {source.name}")
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

    failed: list[OutputState] = []  # the stream failed for good
    only_streaming = args.record is None and getattr(args, "rundown", None) is None and not local_show
    live_destinations = {d.id for d, _, _ in destinations}

    def on_stats(s: ClockStats) -> None:
        say(f"studio: {s.fps:5.1f} fps  render p50 {s.render_ms_p50:.1f} ms  lagged {s.lagged}")

    def on_stream(state: OutputState) -> None:
        retry = f" (retry in {state.retry_in_s:.0f} s)" if state.retry_in_s else ""
        say(f"studio: stream {state.state.value}{': ' + state.message if state.message else ''}{retry}")
        if state.state is OutputStatus.FAILED:
            failed.append(state)
            if only_streaming and len(destinations) <= 1:
                stop.set()

    def on_destination(stats: DestinationStats) -> None:
        if stats.state is OutputStatus.FAILED and stats.id in live_destinations:
            live_destinations.discard(stats.id)
            if stats.kind != "whip":  # the WHIP stream's failure is counted by on_stream
                failed.append(OutputState(stats.state, f"{stats.name}: {stats.message}"))
            if only_streaming and not live_destinations:
                stop.set()
        if stats.kind != "whip" and (stats.state is not OutputStatus.RECONNECTING or not stats.retry_in_s
                                     or stats.retry_in_s >= 1.5):  # one line per countdown, not per tick
            say(destination_line(stats))

    def on_pipeline(p: PipelineStats) -> None:
        if p.stream is not None:
            say(stream_line(p.stream, p.stream_state))

    show.studio.events.stats.connect(on_stats)
    show.studio.events.source_problem.connect(
        lambda p: say(f"studio: source {p.source}: {p.message or 'recovered'}"))
    show.pipeline.stream_state.connect(on_stream)
    show.pipeline.destinations.events.changed.connect(on_destination)
    show.pipeline.stats.connect(on_pipeline)
    # low disk warns; a full disk stops the recording alone, in one line (the stream goes on)
    show.pipeline.recorder_events.connect(
        lambda e: say(f"studio: recording: {e.message}") if e.kind in ("disk_low", "error") else None)
    say(f"studio: headless show of {path} on scene {collection.program_scene!r}")
    try:
        urls = show.start()
        # above 1080p: measured with the compositor running, as on air (seconds); the recording
        # follows what this machine keeps
        plan = plan_outputs((show.studio.width, show.studio.height), show.studio.fps, stream_cap=stream_cap)
        if plan.canvas[1] > DEFAULT_STREAM_MAX_HEIGHT:
            show.pipeline.set_encode_size(*plan.record)
            say(f"studio: 4K: {plan.summary}")
        if show.control is not None:
            say(f"studio: remote control (obs-websocket v5) at {show.control.url}")
        elif show.control_error is not None:
            say(f"studio: remote control not started: {show.control_error}")
            if getattr(args, "control_port", None) is not None:  # a port the user asked for: fail clearly
                return 2
        if urls is not None:
            say(f"studio: watch the show at {urls.viewer}")
        if args.record is not None:
            say(f"studio: recording to {show.start_recording(Path(args.record))}")
        if destinations:
            for problem in show.pipeline.destinations.start_all(destinations):
                say(f"studio: stream not started: {problem}")
        elif local_show:
            show.start_streaming()
        rundown = getattr(args, "rundown", None)
        if rundown is not None:
            executor = show.start_rundown(Path(rundown))
            executor.events.branch_taken.connect(
                lambda b: say(f"studio: branch {b.branch}: {b.option!r} ({b.decided_by}, votes {list(b.counts)})"))
            say(f"studio: running the rundown {rundown}")
        started = time.monotonic()
        while not stop.wait(0.2):
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
    except KeyboardInterrupt:
        pass
    finally:
        show.stop()
    say(f"studio: stopped after {show.studio.frames} frames, {show.studio.lagged} lagged")
    if failed:
        print(redact(f"studio: the stream failed: {failed[-1].message}"), file=sys.stderr, flush=True)
        return 1
    return 0
