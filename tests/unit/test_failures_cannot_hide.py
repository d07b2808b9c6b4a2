"""The suite's own guards: a caught-and-logged exception fails a test unless the test expects it,
and under CI=true a missing Chromium/Xvfb/PyInstaller fails instead of skipping.

Each case runs a small test file with this suite's conftest in a child pytest, as a user's test
would run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

INNER = textwrap.dedent(
    """
    import logging
    import threading

    import pytest
    from requirements_check import missing_tool

    from scenes.events import Signal


    def broken_listener(_event: int) -> None:
        raise RuntimeError("listener bug")


    def test_listener_raises_in_emit() -> None:
        signal: Signal[int] = Signal()
        signal.connect(broken_listener)
        signal.emit(1)  # emit swallows and logs it: only the fixture can make it visible


    def test_tick_fails_on_another_thread() -> None:
        def tick() -> None:
            try:
                raise ValueError("tick bug")
            except ValueError:
                logging.getLogger("studio.clock").exception("video clock tick %d failed", 7)
        t = threading.Thread(target=tick)
        t.start()
        t.join()


    @pytest.mark.expect_logged_errors
    def test_marked_expects_any() -> None:
        test_listener_raises_in_emit()


    @pytest.mark.expect_logged_errors("event listener .* failed")
    def test_marked_expects_this_one() -> None:
        test_listener_raises_in_emit()


    @pytest.mark.expect_logged_errors("something else")
    def test_marked_expects_another() -> None:
        test_listener_raises_in_emit()


    def test_plain_error_without_traceback_is_a_status_not_a_bug() -> None:
        logging.getLogger("studio.collections").error("autosave failed: disk full")


    def test_needs_a_tool() -> None:
        missing_tool("test_needs_a_tool: frobnicator is not installed")
    """
)


def run_inner(tmp_path: Path, ci: bool) -> str:
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(INNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT)])
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-q", "--rootdir", str(tmp_path),
         "-c", os.devnull, str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    return result.stdout + result.stderr


def outcome(output: str, test: str) -> str:
    """ERROR (a fixture failed it), FAILED, PASSED or SKIPPED, from the ``-rA`` summary."""
    found = set()
    for line in output.splitlines():
        word, _, rest = line.partition(" ")
        named = rest.split(" ")[0].endswith(f"::{test}") if word != "SKIPPED" else f"{test}:" in rest
        if word in ("ERROR", "FAILED", "PASSED", "SKIPPED") and named:
            found.add(word)
    for word in ("ERROR", "FAILED", "PASSED", "SKIPPED"):
        if word in found:
            return word
    raise AssertionError(f"{test} not reported:\n{output[-3000:]}")


def test_logged_exceptions_fail_unless_expected(tmp_path: Path) -> None:
    output = run_inner(tmp_path, ci=False)
    assert outcome(output, "test_listener_raises_in_emit") == "ERROR", output[-3000:]
    assert "listener bug" in output and "event listener" in output
    assert outcome(output, "test_tick_fails_on_another_thread") == "ERROR"
    assert "video clock tick 7 failed" in output
    assert outcome(output, "test_marked_expects_any") == "PASSED"
    assert outcome(output, "test_marked_expects_this_one") == "PASSED"
    assert outcome(output, "test_marked_expects_another") == "ERROR"
    assert outcome(output, "test_plain_error_without_traceback_is_a_status_not_a_bug") == "PASSED"
    assert outcome(output, "test_needs_a_tool") == "SKIPPED"


def test_missing_tools_fail_under_ci(tmp_path: Path) -> None:
    output = run_inner(tmp_path, ci=True)
    assert outcome(output, "test_needs_a_tool") == "FAILED", output[-3000:]
    assert "CI=true: test_needs_a_tool: frobnicator is not installed" in output
