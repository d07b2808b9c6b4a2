"""`studio bench faq`: the product-question assistant on the labelled set shipped with the tests
(tests/data/faq_questions.json: danmaku-style questions about the demo catalogue, each with the
product and FAQ topic that answers it and the product on screen, plus out-of-catalogue messages
that must get no answer).

Figures: top-1 accuracy (product and topic both right, answered above the threshold), refusal
accuracy (out-of-catalogue messages with no suggestion), wrongly refused answerable questions,
the time to load jieba and build the index, and per-question time (p50/p95), through the
product's own ``FaqAssistant.suggest``. The misses are listed so a change can be judged by them. The
held-out set (written later, never used to make changes) is evaluated the same way beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from studio.catalogue.assistant import DEFAULT_THRESHOLD, FaqAssistant
from studio.catalogue.demo import demo_catalogue

HELP = "product-question assistant: top-1 accuracy and refusals on the labelled set, time per question"
TARGET_TOP1 = 0.9
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
DEFAULT_SET = DATA / "faq_questions.json"
# written after the first runs on DEFAULT_SET and before later changes: how well the changes carry
# over to questions they were not made for
HELDOUT_SET = DATA / "faq_questions_heldout.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help=f"labelled questions (default {DEFAULT_SET})")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"refusal threshold (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--heldout", type=Path, default=HELDOUT_SET,
                        help=f"a second set reported beside the first (default {HELDOUT_SET}; '' for none)")
    parser.add_argument("--repeat", type=int, default=5, help="timing passes over the set (default 5)")


def load_set(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the labelled set ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("answerable"), list) or not isinstance(data.get("refuse"), list):
        raise ValueError(f"{path}: expected 'answerable' and 'refuse' lists")
    return data


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)


def evaluate(assistant: FaqAssistant, data: dict[str, Any]) -> dict[str, Any]:
    right, wrong, refused, misses = 0, 0, 0, []
    for item in data["answerable"]:
        s = assistant.suggest(item["q"], item.get("on_screen"), remember=False)
        if s is not None and s.product == item["product"] and s.faq_id == item["topic"]:
            right += 1
            continue
        if s is None:
            refused += 1
        else:
            wrong += 1
        misses.append({"q": item["q"], "want": f"{item['product']}:{item['topic']}",
                       "got": f"{s.product}:{s.faq_id} ({s.score:g})" if s else "refused"})
    answered_out = []
    for item in data["refuse"]:
        s = assistant.suggest(item["q"], item.get("on_screen"), remember=False)
        if s is not None:
            answered_out.append({"q": item["q"], "got": f"{s.product}:{s.faq_id} ({s.score:g})"})
    n, m = len(data["answerable"]), len(data["refuse"])
    return {
        "questions": n, "out_of_catalogue": m,
        "top1_accuracy": round(right / n, 4) if n else None,
        "wrong_answer_rate": round(wrong / n, 4) if n else None,
        "wrongly_refused_rate": round(refused / n, 4) if n else None,
        "refusal_accuracy": round(1 - len(answered_out) / m, 4) if m else None,
        "misses": misses, "answered_out_of_catalogue": answered_out,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = load_set(args.set)
    assistant = FaqAssistant(demo_catalogue(), threshold=args.threshold)
    t0 = time.perf_counter()
    assistant.load_now()  # the bench's own thread; the studio loads on a worker thread
    load_s = time.perf_counter() - t0
    result = evaluate(assistant, data)
    texts = [(i["q"], i.get("on_screen")) for i in data["answerable"] + data["refuse"]]
    times: list[float] = []
    for _ in range(max(1, args.repeat)):
        for text, on_screen in texts:
            t = time.perf_counter()
            assistant.suggest(text, on_screen, remember=False)
            times.append(time.perf_counter() - t)
    heldout: dict[str, Any] | None = None
    if args.heldout and str(args.heldout) and Path(args.heldout).is_file():
        heldout = {"set": str(args.heldout), **evaluate(assistant, load_set(args.heldout))}
    assistant.close()
    return {
        "set": str(args.set), "threshold": args.threshold,
        "target_top1": TARGET_TOP1, "top1_met": (result["top1_accuracy"] or 0) >= TARGET_TOP1,
        "load_s": round(load_s, 3),
        "per_question_ms_p50": _ms(times, 0.5), "per_question_ms_p95": _ms(times, 0.95),
        "per_question_ms_mean": round(statistics.fmean(times) * 1000, 3),
        **result,
        "heldout": heldout,
    }
