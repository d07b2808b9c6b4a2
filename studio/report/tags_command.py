"""``studio tags``: viewer tags from one session, the latest, or all of them, as CSV for a CRM."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from studio.report.tag_rules import DEFAULT_RULES, KIND, SCHEMA_VERSION, load_rules
from studio.report.viewer_tags import segments, tag_viewers, viewer_facts, write_tags_csv
from studio.sessiondata.store import latest_session, list_sessions, resolve_session


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("session", nargs="*", help="session names or .sqlite paths (several: their viewers add up)")
    p.add_argument("--last", action="store_true", help="the latest session")
    p.add_argument("--all", action="store_true", help="every session in the folder (tags across sessions)")
    p.add_argument("-o", "--output", type=Path, help="write the CSV here (default: tags.csv)")
    p.add_argument("--rules", type=Path, help="tag rules JSON (default: the built-in set; see --default-rules)")
    p.add_argument("--tag", help="only the viewers with this tag (one CRM segment)")
    p.add_argument("--default-rules", action="store_true", help="print the built-in rules as JSON and stop")
    p.add_argument("--folder", type=Path, help="sessions folder (default: <data>/sessions)")


def run_tags(args: argparse.Namespace) -> int:
    if args.default_rules:
        print(json.dumps({"schema_version": SCHEMA_VERSION, "kind": KIND, "rules": DEFAULT_RULES},
                         ensure_ascii=False, indent=2))
        return 0
    chosen = sum((bool(args.session), args.last, args.all))
    if chosen != 1:
        raise ValueError("name sessions, or --last, or --all")
    if args.all:
        paths = list_sessions(args.folder)
        if not paths:
            raise FileNotFoundError("no sessions to tag")
    elif args.last:
        paths = [latest_session(args.folder)]
    else:
        paths = [resolve_session(name, args.folder) for name in args.session]
    rules = load_rules(args.rules)
    tagged = tag_viewers(viewer_facts(paths), rules)
    output = args.output or Path("tags.csv")
    write_tags_csv(tagged, output, args.tag)
    print(f"{len(tagged)} viewers from {len(paths)} session(s) written to {output}")
    for tag, viewers in segments(tagged).items():
        print(f"  {tag}: {len(viewers)}")
    return 0
