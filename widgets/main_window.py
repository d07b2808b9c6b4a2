"""The studio's main window: preview | transitions | program, with docks around them.

Studio mode shows the editable preview (left), the transition controls and the program (right);
outside studio mode one view shows the program, is editable, and clicking a scene switches to it.
Docks (Scenes, Sources, Properties, Stats, Controls) are movable; their layout, the hotkeys and the
language persist in the UI settings. The window only reads slots and events and sends commands.

Given a ``Show`` (the GUI always has one; some tests use a bare ``Studio``), the window also runs
its outputs: ``ShowBinding`` adds the Audio Mixer dock, enables streaming and recording, and adds
the Danmaku and Votes docks once the show's interaction service is up.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QMainWindow, QMenu, QVBoxLayout, QWidget

from scenes.model import ItemChanged, ModelEvent, SceneItemsChanged, ScenesChanged, VideoFormat
from scenes.transitions import TransitionKind
from studio import commands as cmd
from studio.engine import Studio
from studio.events import ClockStats, CommandFailed, ProgramChanged, SourceProblem, TransitionState
from studio.secrets import SecretStoreError, redact
from studio.show import Show
from widgets.bridge import EngineBridge
from widgets.chat_settings import ChatValues
from widgets.clip_drop import DropResolver
from widgets.docks.controls import ControlsPanel
from widgets.docks.properties import PropertiesPanel
from widgets.docks.scenes import ScenesPanel
from widgets.docks.sources import SourcesPanel
from widgets.docks.stats import HealthBadge, StatsPanel
from widgets.edit_actions import EditActions
from widgets.editor_state import EditorState
from widgets.frame_view import FrameView
from widgets.hotkeys import HotkeyManager
from widgets.i18n import bind, on_change, tr, translator
from widgets.library_dock import LibraryDock, open_library_for_ui
from widgets.multiview import MultiviewWindow
from widgets.scene_editor import SceneEditor
from widgets.settings_dialog import (
    ControlValues,
    RecordingValues,
    SettingsDialog,
    SettingsValues,
    StreamValues,
)
from widgets.settings_store import SettingsStore, control_config
from widgets.show_binding import ShowBinding
from widgets.transition_panel import TransitionPanel


class MainWindow(QMainWindow):
    def __init__(self, studio: Studio, store: SettingsStore | None = None, show: Show | None = None) -> None:
        super().__init__()
        if show is not None and show.studio is not studio:
            raise ValueError("MainWindow: the show must run this studio")
        self.studio = studio
        self.studio_show: Show | None = show
        self.binding: ShowBinding | None = None
        self._owns_store = store is None
        self.store = store or SettingsStore()
        self.settings = self.store.settings
        self.setObjectName("mainWindow")
        try:
            translator().set_language(self.settings.language)
        except ValueError as exc:  # a missing catalog must not stop the show
            self.store.problem = str(exc)
        self.bridge = EngineBridge(studio, self)
        self.state = EditorState(studio, self)
        self.editor = SceneEditor(self.state, self)
        self.editor.show_safe_areas = self.settings.safe_areas
        self.settings_dialog: SettingsDialog | None = None
        self._studio_mode = self.settings.studio_mode
        if studio.studio_mode != self._studio_mode:
            studio.submit(cmd.SetStudioMode(self._studio_mode))
        on_change(self, self._retranslate_title)
        self._layout_restored = False
        self._restored_docks: set[str] = set()  # late docks the saved layout put back
        self._docks_menu: QMenu | None = None

        self._build_center()
        self._build_docks()
        self._build_menus()
        self.status_figures = QLabel(self)
        self.status_figures.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.status_figures)
        self.health_badge = HealthBadge(self)  # the stream's network health, green/yellow/red
        self.statusBar().addPermanentWidget(self.health_badge)
        self.stats.health_changed.connect(self.health_badge.show_health)
        self._last_stats: ClockStats | None = None
        on_change(self.status_figures, self._show_figures)

        self.hotkeys = HotkeyManager(self, self.settings.hotkeys)
        self.hotkeys.triggered.connect(self.run_hotkey)
        self.editor.properties_requested.connect(self.show_properties)
        self.bridge.program_changed.connect(self._on_program_changed)
        self.bridge.transition.connect(self._on_transition)
        self.bridge.stats.connect(self._on_stats)
        self.bridge.command_failed.connect(self._on_command_failed)
        self.bridge.source_problem.connect(self._on_problem)
        self.bridge.model_changed.connect(self._on_model)

        self.resize(1600, 900)
        with studio.collection.lock:
            names = list(studio.collection.sources)
        self.properties.prepare(names)
        self._restore_layout()
        self._apply_studio_mode()
        if self.store.problem:
            self.statusBar().showMessage(self.store.problem, 15_000)

    # ---- construction ---------------------------------------------------------------------------
    def _view_box(self, view: FrameView, title: str, live: bool) -> tuple[QWidget, QLabel]:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel(box)
        label.setObjectName("viewTitle")
        label.setProperty("live", live)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bind(label, "setText", title)
        layout.addWidget(label)
        layout.addWidget(view, 1)
        return box, label

    def _build_center(self) -> None:
        canvas = (self.studio.width, self.studio.height)
        self.preview_view = FrameView(self.studio.preview, self, canvas=canvas)
        self.preview_view.setObjectName("previewView")
        self.program_view = FrameView(self.studio.program, self, canvas=canvas)
        self.program_view.setObjectName("programView")
        self.preview_box, self.preview_title = self._view_box(self.preview_view, "Preview", False)
        self.program_box, self.program_title = self._view_box(self.program_view, "Program", True)
        self.transitions = TransitionPanel(self.studio, self.settings, self)
        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(6, 6, 6, 6)
        row.setSpacing(6)
        row.addWidget(self.preview_box, 1)
        row.addWidget(self.transitions)
        row.addWidget(self.program_box, 1)
        self.setCentralWidget(central)

    def add_dock(self, title: str, name: str, widget: QWidget,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Add a movable dock (also for docks other features bring, e.g. danmaku or polls).

        ``name`` must be unique and stable: the saved layout finds docks by it. A dock added after
        start-up gets its saved place back through ``restoreDockWidget``.
        """
        dock = QDockWidget(self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        bind(dock, "setWindowTitle", title)
        return self.add_dock_widget(dock, area)

    def add_dock_widget(self, dock: QDockWidget,
                        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Add a ready-made dock (it has its objectName); see ``add_dock``."""
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        # a dock added after start-up takes the place the saved layout kept for it, if any
        if self._layout_restored and self.restoreDockWidget(dock):
            self._restored_docks.add(dock.objectName())
        else:
            self.addDockWidget(area, dock)
        if self._docks_menu is not None:
            self._docks_menu.addAction(dock.toggleViewAction())
        return dock

    def restored_dock(self, name: str) -> bool:
        """Whether the saved layout placed the dock ``name`` (so defaults must not move it)."""
        return self._layout_restored and name in self._restored_docks

    def _build_docks(self) -> None:
        self.scenes = ScenesPanel(self.studio, self)
        self.scenes.scene_clicked.connect(self.choose_scene)
        self.sources = SourcesPanel(self.state, self)
        self.properties = PropertiesPanel(self.state, self)
        self.stats = StatsPanel(self)
        self.controls = ControlsPanel(self._studio_mode, self)
        self.controls.studio_mode_toggled.connect(self.set_studio_mode)
        self.controls.settings_requested.connect(self.open_settings)
        self.sources.properties_requested.connect(self.show_properties)
        for panel in (self.scenes, self.sources):
            panel.message.connect(self._show_message)
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.docks = {
            "scenes": self.add_dock("Scenes", "scenesDock", self.scenes, bottom),
            "sources": self.add_dock("Sources", "sourcesDock", self.sources, bottom),
            "stats": self.add_dock("Stats", "statsDock", self.stats, bottom),
            "controls": self.add_dock("Controls", "controlsDock", self.controls, bottom),
            "properties": self.add_dock("Properties", "propertiesDock", self.properties,
                                     Qt.DockWidgetArea.RightDockWidgetArea),
        }
        if self.studio_show is not None:
            self.binding = ShowBinding(self, self.studio_show)
            self.docks["mixer"] = self.add_dock("Audio Mixer", "mixerDock", self.binding.mixer, bottom)
            order = ("scenes", "sources", "stats", "controls", "mixer")
            self.resizeDocks([self.docks[k] for k in order], [170, 210, 440, 320, 420],
                             Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["scenes"]], [260], Qt.Orientation.Vertical)
        # the asset library shares the right-hand area with the properties (a tab behind them)
        library, problem = open_library_for_ui()
        self.library_dock = LibraryDock(library, self.studio.collection, self,
                                        update_source=lambda name, s: self.studio.submit(cmd.UpdateSource(name, s)))
        self.library_dock.status.setText(problem)
        # clips dropped on the Sources list or the preview become media sources (library ids)
        self.clip_drops = DropResolver(library, self)
        self.sources.drops = self.editor.drops = self.clip_drops
        self.editor.message.connect(self._show_message)
        self.docks["library"] = self.add_dock("Asset Library", "libraryDock", self.library_dock,
                                              Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.docks["properties"], self.docks["library"])
        self.docks["properties"].raise_()
        self._default_state = self.saveState()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("")
        bind(file_menu, "setTitle", "&File")
        settings = QAction(self)
        bind(settings, "setText", "Settings…")
        settings.triggered.connect(self.open_settings)
        file_menu.addAction(settings)
        reports = QAction(self)
        bind(reports, "setText", "Session Reports…")
        reports.triggered.connect(lambda _=False: self.open_reports())
        file_menu.addAction(reports)
        self.report_window: QWidget | None = None
        file_menu.addSeparator()
        quit_action = QAction(self)
        bind(quit_action, "setText", "Exit")
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        # Edit: undo/redo (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y), copy/paste of sources and filters, groups
        self.edit_actions = EditActions(self, self.state, self.sources.selected_ids, self._show_message)
        edit_menu = bar.addMenu("")
        bind(edit_menu, "setTitle", "&Edit")
        self.edit_actions.fill_edit_menu(edit_menu)
        self.editor.extend_menu = self.edit_actions.fill_item_menu
        self.sources.extend_menu = self.edit_actions.fill_item_menu

        view_menu = bar.addMenu("")
        bind(view_menu, "setTitle", "&View")
        self.studio_mode_action = QAction(self)
        self.studio_mode_action.setCheckable(True)
        self.studio_mode_action.setChecked(self._studio_mode)
        bind(self.studio_mode_action, "setText", "Studio Mode")
        self.studio_mode_action.toggled.connect(self.set_studio_mode)
        view_menu.addAction(self.studio_mode_action)
        safe = QAction(self)
        safe.setCheckable(True)
        safe.setChecked(self.editor.show_safe_areas)
        bind(safe, "setText", "Show Safe Areas")
        safe.toggled.connect(self._set_safe_areas)
        view_menu.addAction(safe)
        self.safe_action = safe
        self.multiview: MultiviewWindow | None = None
        for text, full in (("Multiview", False), ("Multiview Full Screen", True)):
            action = QAction(self)
            bind(action, "setText", text)
            action.triggered.connect(lambda _=False, full=full: self.open_multiview(full))
            view_menu.addAction(action)
        view_menu.addSeparator()
        docks_menu = view_menu.addMenu("")
        bind(docks_menu, "setTitle", "Docks")
        for dock in self.docks.values():
            docks_menu.addAction(dock.toggleViewAction())
        self._docks_menu = docks_menu
        reset = QAction(self)
        bind(reset, "setText", "Reset Layout")
        reset.triggered.connect(lambda _=False: self.restoreState(self._default_state))
        view_menu.addAction(reset)

    def open_reports(self) -> QWidget:
        """The session reports window (one, reused); the sessions table loads on its worker."""
        from widgets.report_window import ReportWindow

        if self.report_window is None:
            self.report_window = ReportWindow(self)
        assert isinstance(self.report_window, ReportWindow)
        self.report_window.show()
        self.report_window.refresh()
        return self.report_window

    def open_multiview(self, full_screen: bool = False) -> MultiviewWindow:
        """The multiview window (one, reused); full screen on the last monitor when asked."""
        if self.multiview is None:
            self.multiview = MultiviewWindow(self.studio, self.hotkeys.bindings, self)
        if full_screen:
            self.multiview.show_full_screen()
        else:
            self.multiview.show()
            self.multiview.raise_()
        return self.multiview

    def start_show(self) -> None:
        """Start the show on the output worker (the window stays responsive while it starts)."""
        if self.binding is None:
            raise RuntimeError("MainWindow: no show to start (built on a bare Studio)")
        self.binding.start()

    def _retranslate_title(self) -> None:
        self.setWindowTitle(f"{tr('Drama Live Studio')} — {self.studio.collection.name}")

    # ---- studio mode and scenes -----------------------------------------------------------------
    @property
    def studio_mode(self) -> bool:
        return self._studio_mode

    def set_studio_mode(self, enabled: bool) -> None:
        if enabled == self._studio_mode:
            return
        self._studio_mode = enabled
        self.settings.studio_mode = enabled
        self.studio.submit(cmd.SetStudioMode(enabled))
        if enabled:
            # the engine copies program into preview; show that at once
            with self.studio.collection.lock:
                self.studio.collection.preview_scene = self.studio.collection.program_scene
        self._apply_studio_mode()

    def _apply_studio_mode(self) -> None:
        on = self._studio_mode
        for widget in (self.preview_box, self.transitions):
            widget.setVisible(on)
        self.program_title.setVisible(on)
        for control in (self.controls.studio_mode, self.studio_mode_action):
            control.blockSignals(True)
            control.setChecked(on)
            control.blockSignals(False)
        self.editor.attach(self.preview_view if on else self.program_view)
        self.scenes.studio_mode = on
        self._sync_edited_scene()
        self.scenes.refresh()

    def _sync_edited_scene(self) -> None:
        col = self.studio.collection
        with col.lock:
            name = col.preview_scene if self._studio_mode else col.program_scene
        self.state.set_scene(name)

    def choose_scene(self, name: str) -> None:
        """A scene was clicked (or its hotkey pressed): preview it in studio mode, else switch to it."""
        if self._studio_mode:
            self.studio.submit(cmd.SetPreviewScene(name))
        else:
            self.studio.submit(cmd.Transition(scene=name, spec=self.transitions.spec()))
        self.state.set_scene(name)

    def scene_by_number(self, number: int) -> str | None:
        scenes = self.studio.collection.scenes
        return scenes[number - 1].name if 0 < number <= len(scenes) else None

    def run_hotkey(self, action: str) -> None:
        if action.startswith("scene."):
            name = self.scene_by_number(int(action.split(".", 1)[1]))
            if name is not None:
                self.choose_scene(name)
        elif not self._studio_mode:
            return  # transitions need a preview to take
        elif action == "transition":
            self.transitions.run_transition()
        elif action == "quick_cut":
            self.transitions.run_transition(TransitionKind.CUT)
        elif action == "quick_fade":
            self.transitions.run_transition(TransitionKind.FADE)

    # ---- engine events (UI thread, via the bridge) ----------------------------------------------
    def _on_program_changed(self, event: ProgramChanged) -> None:
        if event.studio_mode == self._studio_mode:
            self.state.set_scene(event.preview if self._studio_mode else event.program)
        self.scenes.refresh()

    def _on_transition(self, event: TransitionState) -> None:
        if not event.active and not self.transitions.tbar.isSliderDown():
            slider = self.transitions.tbar
            if slider.value() != 0 and event.position >= 1.0:
                slider.blockSignals(True)
                slider.setValue(0)
                slider.blockSignals(False)

    def _on_stats(self, s: ClockStats) -> None:
        self.stats.show_clock(s)
        self._last_stats = s
        self._show_figures()

    def _show_figures(self) -> None:
        s = self._last_stats
        if s is not None:
            self.status_figures.setText(tr("{fps:.1f} fps · render {ms:.1f} ms · lagged {lagged}").format(
                fps=s.fps, ms=s.render_ms_p50, lagged=s.lagged))

    def _on_command_failed(self, event: CommandFailed) -> None:
        self._show_message(event.message)

    def _on_problem(self, p: SourceProblem) -> None:
        if p.message:
            self._show_message(f"{p.source}: {p.message}")

    def _on_model(self, event: ModelEvent) -> None:
        self.sources.on_model(event)
        self.properties.on_model(event)
        if isinstance(event, ScenesChanged):
            self.scenes.refresh()
            self._sync_edited_scene()
        elif isinstance(event, ItemChanged | SceneItemsChanged) and event.scene == self.state.scene \
                and self.editor.view is not None:
            self.editor.view.update()

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(redact(text), 10_000)

    # ---- docks, settings ----------------------------------------------------------------------------
    def show_properties(self) -> None:
        dock = self.docks["properties"]
        dock.show()
        dock.raise_()

    def _set_safe_areas(self, on: bool) -> None:
        self.settings.safe_areas = on
        self.editor.set_safe_areas(on)

    def open_settings(self) -> SettingsDialog:
        """Show the settings dialog (non-blocking); hotkeys pause while it is open."""
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return self.settings_dialog
        video = VideoFormat(**self.settings.video) if self.settings.video else self.studio.collection.video
        running = VideoFormat(self.studio.width, self.studio.height, self.studio.fps)
        s = self.settings
        dialog = SettingsDialog(
            translator().language, video, running, self.hotkeys.bindings(), self,
            stream=StreamValues(s.stream_local_relay, s.stream_url, s.stream_min_kbps, s.stream_max_kbps,
                                s.stream_max_height),
            recording=RecordingValues(s.recording_folder, s.recording_container),
            session_token=self.binding.session_token if self.binding is not None else None,
            control=ControlValues(s.control_enabled, s.control_port, s.control_lan, s.control_auth),
            chat=ChatValues.from_settings(s))
        dialog.applied.connect(self.apply_settings)
        dialog.finished.connect(self._settings_closed)
        self.hotkeys.set_enabled(False)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _settings_closed(self, _result: int) -> None:
        self.hotkeys.set_enabled(True)
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
        self.settings_dialog = None

    def apply_settings(self, values: SettingsValues) -> None:
        translator().set_language(values.language)
        self.settings.language = values.language
        self.hotkeys.set_bindings(values.hotkeys)
        self.settings.hotkeys = self.hotkeys.bindings()
        if self.settings_dialog is not None:
            self.hotkeys.set_enabled(False)
        video = values.video
        running = (self.studio.width, self.studio.height, self.studio.fps)
        self.settings.video = None if (video.width, video.height, video.fps) == running and \
            video == self.studio.collection.video else {"width": video.width, "height": video.height,
                                                         "fps": video.fps}
        if (video.width, video.height, video.fps) != running:
            self._show_message(tr("The new canvas and frame rate apply the next time the studio starts."))
        stream, recording = values.stream, values.recording
        self.settings.stream_local_relay = stream.local_relay
        self.settings.stream_url = stream.url
        self.settings.stream_min_kbps, self.settings.stream_max_kbps = stream.min_kbps, stream.max_kbps
        self.settings.recording_folder = recording.folder
        self.settings.recording_container = recording.container
        self.settings.stream_max_height = stream.max_height
        if self.binding is not None:
            self.binding.session_token = values.session_token  # never saved
            self.binding.show.pipeline.stream_max_height = stream.max_height  # from the next stream start
        self._apply_control(values.control)
        values.chat.store_into(self.settings)  # platform chat: from the next start of the show
        self.save_settings()

    def _apply_control(self, control: ControlValues) -> None:
        """The remote control follows its settings at once (connected tools reconnect)."""
        s = self.settings
        before = (s.control_enabled, s.control_port, s.control_lan, s.control_auth)
        s.control_enabled, s.control_port, s.control_lan, s.control_auth = \
            control.enabled, control.port, control.lan, control.auth
        show = self.studio_show
        if show is None or before == (control.enabled, control.port, control.lan, control.auth):
            return
        try:
            show.restart_control(control_config(s))
        except SecretStoreError as exc:
            show.restart_control(None)
            self._show_message(tr("Remote control is off: {error}").format(error=exc))
            return
        if show.control_error is not None:
            self._show_message(tr("Remote control is off: {error}").format(error=show.control_error))

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_geometry, self.settings.window_state
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
        if state and not self.restoreState(QByteArray.fromBase64(state.encode("ascii"))):
            self._show_message(tr("The saved dock layout could not be restored; using the default."))
        self._layout_restored = True

    def save_settings(self) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.settings.window_state = bytes(self.saveState().toBase64().data()).decode("ascii")
        self.settings.hotkeys = self.hotkeys.bindings()
        self.settings.language = translator().language
        self.store.save()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        if self.binding is not None:
            if not self.binding.request_close():
                event.ignore()  # the user said no, or the show is stopping: we close when it has
                return
            self.binding.close()
        self.save_settings()
        self.clip_drops.wait()  # a dropped file being probed
        self.library_dock.shutdown()  # an import stops after its current file
        if self.multiview is not None:
            self.multiview.close()
        self.hotkeys.close()
        self.bridge.close()
        if self._owns_store:
            self.store.close()
        super().closeEvent(event)

    def refresh_views(self) -> None:
        """Pull the newest frames now (tests and screenshots; the timers do this on their own)."""
        self.preview_view.refresh()
        self.program_view.refresh()
