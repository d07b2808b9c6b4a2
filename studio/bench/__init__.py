"""`studio bench NAME`: performance figures measured side by side in one run, printed as JSON.

Each benchmark is a module ``studio.bench.<name>`` with:

    HELP: str
    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> dict   # JSON-ready figures

Benchmarks are never timed unit tests; tests only check that a benchmark runs and reports its fields.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def benchmarks() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "run"):
            found[info.name] = module
    return found
