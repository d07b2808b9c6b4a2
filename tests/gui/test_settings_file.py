"""The desktop settings file: a newer studio's file is never overwritten; a damaged one is kept
beside the new one; the file that loads is the backup."""

from __future__ import annotations

import json
from pathlib import Path

from widgets.settings_store import FILE_NAME, KIND, SettingsStore, UISettings


def test_settings_from_a_newer_studio_are_never_overwritten(tmp_path: Path) -> None:
    newer = json.dumps({"kind": KIND, "schema_version": 99, "language": "zh_CN", "future": {"x": 1}})
    path = tmp_path / FILE_NAME
    path.write_text(newer, "utf-8")
    store = SettingsStore(tmp_path)
    try:
        assert store.read_only and store.settings == UISettings()
        assert store.problem is not None and "newer studio" in store.problem and "not saved" in store.problem
        store.settings.language = "en"
        store.settings.transition_ms = 500
        store.save()
    finally:
        store.close()
    assert path.read_text("utf-8") == newer
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]


def test_damaged_settings_use_the_backup_and_are_kept_beside(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.settings.transition_ms = 700
    store.save()
    store.close()
    SettingsStore(tmp_path).close()  # opened once: this file is the known-good backup
    path = tmp_path / FILE_NAME
    path.write_bytes(b'{"kind": "drama-live-studio/ui-settings", "schema_vers')
    store = SettingsStore(tmp_path)
    try:
        assert store.settings.transition_ms == 700
        assert store.problem is not None and "backup" in store.problem
        store.settings.transition_ms = 900
        store.save()
    finally:
        store.close()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(f"{FILE_NAME}.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes().endswith(b"schema_vers")
    assert json.loads(path.read_text("utf-8"))["transition_ms"] == 900
