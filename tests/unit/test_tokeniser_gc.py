"""The tokeniser's tables are frozen out of the collector's full passes once loaded.

jieba's dictionary and pypinyin's phrase table (some 190,000 lists) live as long as the process; left
in the collectable generations they are walked by every full collection, with the GIL held, stalling
the UI under a busy chat (issue 13). Run in a fresh interpreter: what a test process imported
earlier must not hide an import the load does after its freeze.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jieba")

PROBE = """
import gc, json
from studio.catalogue.tokeniser import Tokeniser
gc.collect()
before = len(gc.get_objects())
tokeniser = Tokeniser()
tokeniser.load()
tokeniser.cut("这个包多少钱")
pinyin = None
try:
    from pypinyin.phrases_dict import phrases_dict
except ImportError:
    pass
else:
    pinyin = next(iter(phrases_dict.values()))
gc.collect()
tracked = {id(o) for o in gc.get_objects()}
print(json.dumps({"grown": len(tracked) - before, "frozen": gc.get_freeze_count(),
                  "pinyin_collectable": pinyin is not None and id(pinyin) in tracked}))
"""


def test_load_leaves_its_tables_out_of_full_collections() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          check=True, cwd=Path(__file__).resolve().parents[2])
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["frozen"] > 100_000  # the tables were frozen ...
    assert not seen["pinyin_collectable"]  # ... pypinyin's included, imported during the load
    # what stays collectable after loading is a few objects, not a dictionary's worth
    assert seen["grown"] < 2_000, seen
