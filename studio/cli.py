"""The `studio` command line: the GUI by default, plus headless, render, doctor, report, bench and serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from studio.display import display_available, use_offscreen_qt


def _add_collection_args(p: argparse.ArgumentParser, scene_help: str = "scene to show") -> None:
    p.add_argument("--collection", type=Path, help="scene collection JSON (default: the built-in demo)")
    p.add_argument("--scene", help=scene_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="Drama Live Studio")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the studio window (the default)")
    gui.add_argument("--collection", type=Path)

    headless = sub.add_parser("headless", help="run the engine without a window")
    _add_collection_args(headless)
    headless.add_argument("--record", type=Path, help="record to this file (.mkv or .mp4)")
    headless.add_argument("--stream", metavar="URL", action="append",
                          help="go live here (repeatable): http(s):// WHIP, rtmp(s):// RTMP, srt:// SRT")
    headless.add_argument("--token-env", metavar="VAR", help="environment variable holding the WHIP bearer token")
    headless.add_argument("--key-env", metavar="VAR",
                          help="environment variable holding the RTMP stream key / SRT passphrase")
    headless.add_argument("--stream-max-height", type=int, metavar="N",
                          help="the stream's largest height, e.g. 1080 or 720; 0: the canvas (default: 1080 "
                               "above 1080p; the recording keeps the canvas)")
    headless.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    headless.add_argument("--rundown", type=Path, help="run this rundown (markers, polls, branches) on air")
    headless.add_argument("--strict", action="store_true",
                          help="do not go live when the rundown's pre-flight check finds a problem")
    headless.add_argument("--chat", action="append", metavar="SOURCE",
                          help="platform chat: bilibili:ROOM[?url=ws://…] or douyin-push:PORT (repeatable)")
    headless.add_argument("--show-log", type=Path, metavar="FILE", help="write the show log (JSONL) to this file")
    headless.add_argument("--control-port", type=int, metavar="P",
                          help="obs-websocket v5 remote control port (default 4455 when free; 0 turns it off)")
    headless.add_argument("--control-password-env", metavar="VAR",
                          help="environment variable holding the remote control password (default: the keyring's)")

    render = sub.add_parser("render", help="render a scene or a rundown path to a video file")
    _add_collection_args(render, "scene to render")
    render.add_argument("--rundown", type=Path, help="render a rundown instead of a scene")
    render.add_argument("--path", help="branch choices for --rundown, in order, e.g. A,B")
    render.add_argument("--seconds", type=float, default=10.0)
    render.add_argument("-o", "--output", type=Path, required=True)
    render.add_argument("--encoder", default="libx264", help="video encoder id (default libx264)")

    serve = sub.add_parser("serve", help="run the local relay (WHIP/WHEP + viewer page) and interaction hub")
    from studio.serve import add_arguments as serve_arguments

    serve_arguments(serve)

    doctor = sub.add_parser("doctor", help="check versions, encoders, audio, fonts and display")
    doctor.add_argument("--json", action="store_true")

    demo = sub.add_parser("demo", help="(re)generate the built-in demo assets")
    demo.add_argument("--force", action="store_true")

    report = sub.add_parser("report", help="a session's report (HTML + CSV), the sessions table, or two compared")
    from studio.report.command import add_arguments as report_arguments

    report_arguments(report)

    tags = sub.add_parser("tags", help="viewer tags (voted, clicked, stayed into live...) as CSV for a CRM")
    from studio.report.tags_command import add_arguments as tags_arguments

    tags_arguments(tags)

    bench = sub.add_parser("bench", help="performance figures, side by side, as JSON")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    from studio.bench import benchmarks

    for name, module in sorted(benchmarks().items()):
        bp = bench_sub.add_parser(name, help=getattr(module, "HELP", ""))
        bp.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
        module.add_arguments(bp)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("aioice", "aiortc", "aiohttp.access"):  # per-packet/candidate chatter at INFO
        logging.getLogger(chatty).setLevel(logging.WARNING)
    from studio.secrets import install_log_redaction

    install_log_redaction()  # stream tokens never reach a log line
    command = args.command or "gui"
    try:
        if command == "gui":
            return _gui(getattr(args, "collection", None))
        if command == "headless":
            from studio.headless import run_headless

            return run_headless(args)
        if command == "render":
            from studio.render import render_command

            return render_command(args)
        if command == "serve":
            from studio.serve import run_serve

            return run_serve(args)
        if command == "doctor":
            return _doctor(args.json)
        if command == "demo":
            use_offscreen_qt()
            from studio.demo import ensure_demo
            from studio.demo_rundown import ensure_demo_rundown

            rundown = ensure_demo_rundown(force=args.force, progress=print)
            print(f"demo ready: {ensure_demo().collection} (rundown {rundown})")
            return 0
        if command == "report":
            from studio.report.command import run_report

            return run_report(args)
        if command == "tags":
            from studio.report.tags_command import run_tags

            return run_tags(args)
        if command == "bench":
            use_offscreen_qt()
            from studio.bench import benchmarks

            result = benchmarks()[args.bench].run(args)
            print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
            return 0
    except KeyboardInterrupt:
        return 130
    except (ValueError, OSError) as exc:  # a clear message instead of a traceback
        print(f"studio: {exc}", file=sys.stderr)
        return 2
    return 1


def _gui(collection: Path | None) -> int:
    ok, reason = display_available()
    if not ok:
        print(f"studio: no display ({reason}); running the demo show headless instead. Ctrl-C stops it.")
        from studio.headless import run_headless

        demo_rundown = None
        if collection is None:
            from studio.demo_rundown import ensure_demo_rundown

            demo_rundown = ensure_demo_rundown()  # the demo show runs its drama with audience votes
        return run_headless(argparse.Namespace(collection=collection, scene=None, record=None, stream=None,
                                               token_env=None, seconds=None, rundown=demo_rundown),
                            local_show=True)
    from widgets.app import run_gui

    return run_gui(collection)


def _doctor(as_json: bool) -> int:
    use_offscreen_qt() if not display_available()[0] else None
    from studio.doctor import format_text, report

    data = report()
    print(json.dumps(data, ensure_ascii=False, indent=2) if as_json else format_text(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
