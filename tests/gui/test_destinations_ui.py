"""Destinations in the UI: the settings page stores keys in the keyring (never in the JSON), the
rows in the controls and stats docks follow events emitted on other threads, Start/Stop ask."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from studio.outputs import destination_store
from studio.outputs.destinations import DestinationEvents, DestinationKind, DestinationStats
from studio.outputs.whip_events import OutputStatus
from widgets.destination_rows import DestinationRows
from widgets.destinations_page import DestinationsPage

KEY = "page-key-5be21c"


def test_page_adds_a_preset_with_its_key_in_the_keyring_only(qtbot, studio_home: Path, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    page = DestinationsPage()
    qtbot.addWidget(page)
    page.preset.setCurrentIndex(page.preset.findData("Bilibili"))
    assert page.url.text() == "rtmp://live-push.bilivideo.com/live-bvc/"
    page.key.setText(KEY)
    page.storage.setCurrentIndex(page.storage.findData("keyring"))
    dest = page.add_from_fields()
    assert dest is not None and dest.kind == DestinationKind.RTMP and dest.name == "Bilibili"
    text = destination_store.store_path().read_text(encoding="utf-8")
    assert KEY not in text and json.loads(text)["destinations"][0]["url"] == dest.url
    stored = destination_store.stored_key(dest)
    assert stored is not None and stored.reveal() == KEY
    assert page.list.count() == 1 and KEY not in page.list.item(0).text()
    assert page.key.text() == ""
    page.url.setText(f"rtmp://live.example.com/app/{KEY}2")  # a key pasted into the URL
    pasted = page.add_from_fields()
    assert pasted is not None and pasted.url == "rtmp://live.example.com/app/"
    assert f"{KEY}2" not in destination_store.store_path().read_text(encoding="utf-8")
    assert destination_store.stored_key(pasted) is not None
    page.list.setCurrentRow(1)
    page.remove_selected()
    page.url.setText("ftp://nowhere/x")
    assert page.add_from_fields() is None and "unknown scheme" in page.status.text()
    page.list.setCurrentRow(0)
    page.remove_selected()
    assert destination_store.load() == [] and destination_store.stored_key(dest) is None


def test_rows_follow_events_from_other_threads_and_ask_to_start_and_stop(qtbot) -> None:  # type: ignore[no-untyped-def]
    events = DestinationEvents()
    rows = DestinationRows(with_buttons=True)
    qtbot.addWidget(rows)
    rows.bind_events(events)
    live = DestinationStats("d1", "bili", DestinationKind.RTMP, OutputStatus.LIVE, "live on rtmp://x/app/***",
                            bitrate_kbps=4980, dropped_frames=3, reconnects=1)
    thread = threading.Thread(target=events.changed.emit, args=(live,), name="writer")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: "d1" in rows.rows)
    name, state, figures, button = rows.rows["d1"]
    assert name.text() == "RTMP bili" and state.text() == "● LIVE"
    assert "4980 kb/s" in figures.text() and "dropped 3" in figures.text() and "reconnects 1" in figures.text()
    assert button is not None and button.text() == "Stop"
    with qtbot.waitSignal(rows.stop_requested) as asked:
        button.click()
    assert asked.args == ["d1"]
    events.removed.emit("d1")
    qtbot.waitUntil(lambda: rows.rows["d1"][1].text() == "Stopped")
    with qtbot.waitSignal(rows.start_requested):
        button.click()
    rows.unbind()


def test_controls_and_stats_docks_carry_the_rows(make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    assert isinstance(window.controls.destinations, DestinationRows)
    assert isinstance(window.stats.destinations, DestinationRows)
