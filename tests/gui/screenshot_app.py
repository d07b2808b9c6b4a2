"""Run by test_gui_screenshots.py under Xvfb (QT_QPA_PLATFORM=xcb): open the main window on a
demo-like collection, grab it in zh_CN and en, and save PNGs into the folder given as argv[1].

Prints one JSON line describing what it saved (and which source types it had to replace)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication


def demo_like(notes: list[str]):  # type: ignore[no-untyped-def]
    from scenes.model import Scene, SceneCollection, SceneItem, VideoFormat

    col = SceneCollection("演示 Demo", VideoFormat(1280, 720, 30))
    col.add_source("背景 Background", "color", {"color": "#FF23304A", "width": 1280, "height": 720})
    col.add_source("主播 Host", "color", {"color": "#FF3C7A5A", "width": 480, "height": 270})
    items = [SceneItem("背景 Background", "bg"), SceneItem("主播 Host", "host", x=760, y=40)]
    extras = (
        ("字幕条 Lower third", "text", {"text": "主播小林 · 走出剧情来带货", "font_size": 40,
                                     "background": "#A0000000"}, 60, 600),
        ("商品卡 Product", "product_card", {"title": "丝绒哑光口红 #666", "price": 129.0,
                                          "original_price": 199.0}, 60, 40),
    )
    for name, type_id, settings, x, y in extras:
        try:
            col.add_source(name, type_id, settings)
            items.append(SceneItem(name, x=x, y=y))
        except ValueError as exc:
            notes.append(f"{type_id} unavailable ({exc}); left out")
    col.add_scene(Scene("直播 Live", items))
    col.add_scene(Scene("剧集 Drama", [SceneItem("背景 Background")]))
    return col


def main(out: Path) -> int:
    app = QApplication(sys.argv[:1])
    from studio.engine import Studio
    from widgets.i18n import translator
    from widgets.main_window import MainWindow
    from widgets.settings_store import SettingsStore
    from widgets.theme import apply_theme

    apply_theme(app)
    notes: list[str] = []
    studio = Studio(demo_like(notes), studio_mode=True)
    store = SettingsStore()
    window = MainWindow(studio, store)
    window.resize(1600, 900)
    window.show()
    for i in range(3):
        studio.render_offline(i)
    app.processEvents()
    window.refresh_views()
    placed = window.state.placements()
    window.state.select(placed[-1][0].id)
    saved = {}
    for language in ("zh_CN", "en"):
        translator().set_language(language)
        app.processEvents()
        window.refresh_views()
        app.processEvents()
        for name, widget in (("window", window), ("program", window.program_view)):
            path = out / f"{name}_{language}.png"
            if not widget.grab().save(str(path)):
                raise SystemExit(f"could not save {path}")
            saved[f"{name}_{language}"] = str(path)
        if language == "zh_CN":
            # two different Chinese labels in the same style: identical pictures would mean boxes
            for key, name_label in (("glyph_a", window.stats.names["render"]),
                                    ("glyph_b", window.stats.names["rtt"])):
                path = out / f"{key}.png"
                name_label.grab().save(str(path))
                saved[key] = str(path)
                saved[key + "_text"] = name_label.text()
    window.close()
    store.close()
    studio.stop()
    print(json.dumps({"saved": saved, "notes": notes, "platform": app.platformName()}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
