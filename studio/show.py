"""A running show, wired once: the engine, the audio mixer, the outputs, the local relay and
interaction hub, the interaction service and autosave. The GUI and `studio headless` both use it,
so what runs on air is the same with or without a window.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from pathlib import Path

from scenes.model import SceneCollection
from studio.audio.mixer import AudioMixer
from studio.catalogue.cards import CardBinder, migrate_rundown_products
from studio.catalogue.files import ShowCatalogue, open_show_catalogue
from studio.collections import Autosaver
from studio.control.server import ControlConfig, ControlServer
from studio.engine import Studio
from studio.guests.stage import GuestStage
from studio.interaction.adapters import Adapter, WebSocketAdapter
from studio.interaction.merged import MergedAdapter
from studio.interaction.overlays import OverlayBinding
from studio.interaction.product_cards import ProductCardRelay
from studio.interaction.service import InteractionService
from studio.interaction.showlog import ShowLog
from studio.library.store import link_on_load
from studio.net.loop import NetLoop
from studio.outputs.low_layer import low_layer_url
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.recorder import RecorderStats
from studio.paths import recordings_dir
from studio.rundown.executor import RundownExecutor
from studio.rundown.persistence import load_rundown
from studio.rundown.polls import FramePolls
from studio.services.guest_requests import GuestRequestRouter
from studio.services.local import LocalServices, ServiceUrls
from studio.sessiondata.session import SessionRecording, show_health_probe

log = logging.getLogger(__name__)


class Show:
    def __init__(self, collection: SceneCollection, path: Path | None = None, *, studio_mode: bool = False,
                 serve_locally: bool = True, relay_port: int | None = None,
                 hub_port: int | None = None, control: ControlConfig | None = None,
                 chat: Sequence[Adapter] = (), show_log: Path | None = None) -> None:
        # ports None: the defaults (8889/8890), or free ones when another program holds them (the
        # window shows the URLs really used); a number is used as given or start fails (LocalServices)
        self.collection = collection
        self.collection_path = path
        self.studio = Studio(collection, studio_mode=studio_mode)
        self.mixer = AudioMixer()
        self.net = NetLoop()
        self.pipeline = OutputPipeline(self.studio, self.mixer, net=self.net)
        # co-host guests' decoders, mixer channels and return feeds (bound to the relay's guests)
        self.guest_stage = GuestStage(self.studio, self.mixer)
        self.services: LocalServices | None = None
        if serve_locally:
            self.services = LocalServices(self.net, relay_port=relay_port, hub_port=hub_port)
        self.interaction: InteractionService | None = None
        self.overlays: OverlayBinding | None = None
        self.showlog: ShowLog | None = None
        self.session: SessionRecording | None = None  # the session database (studio report reads it)
        self.autosaver = Autosaver(collection, path) if path is not None else None
        self.urls: ServiceUrls | None = None
        self.rundown: RundownExecutor | None = None
        # the products on the cards (studio.catalogue): opened at start, cards follow it while live
        self.catalogue: ShowCatalogue | None = None
        self.card_binder: CardBinder | None = None
        # the obs-websocket v5 remote control (None: off); started after the engine, stopped first
        self.control_config = control
        self.control: ControlServer | None = None
        self.control_error: str | None = None  # why the remote control did not start
        # platform chat (Bilibili rooms, Douyin push) merged with the hub page; the show log's file
        self.chat_sources = list(chat)
        self.show_log_path = show_log
        self._started = False

    def _interaction_source(self, hub: Adapter | None) -> Adapter:
        sources = ([hub] if hub is not None else []) + self.chat_sources
        return sources[0] if len(sources) == 1 else MergedAdapter(sources)

    def _new_showlog(self) -> ShowLog:
        return ShowLog(self.show_log_path) if self.show_log_path is not None else ShowLog.for_new_show()

    def start(self) -> ServiceUrls | None:
        """Start serving, the engine and the mixer. Returns the local URLs when serving locally."""
        if self.services is not None:
            self.urls = self.services.start()
            cohost = getattr(self.services, "cohost", None)
            if cohost is not None:
                self.guest_stage.bind_cohost(cohost)
            # every live show keeps a JSONL log: polls and their results, gifts, announcements
            self.showlog = self._new_showlog()
            self.session = SessionRecording()
            hub = WebSocketAdapter(self.urls.hub_host, token=self.urls.hub_token)
            source = self._interaction_source(hub)
            if cohost is not None:  # viewers' requests to join reach the co-host dock, invites go back
                source = GuestRequestRouter(source, cohost)
            self.interaction = InteractionService(
                self.session.tap(source), net=self.net, showlog=self.showlog)
            self.session.bind_interaction(self.interaction)
            self.interaction.start()
            self.session.sample_health(show_health_probe(self.pipeline, self.studio, self.services.hub))
            # viewers' danmaku, likes, gifts and polls reach the overlay sources in the program
            self.overlays = OverlayBinding(self.interaction, self.studio)
        elif self.chat_sources:  # streaming elsewhere: platform chat alone still reaches the overlays
            self.showlog = self._new_showlog()
            self.interaction = InteractionService(self._interaction_source(None), net=self.net,
                                                  showlog=self.showlog)
            self.interaction.start()
            self.overlays = OverlayBinding(self.interaction, self.studio)
        self._open_catalogue()
        self.studio.start()
        self.mixer.start()
        self._started = True
        self._start_control()
        # What exists now (modules, the window, the collection) lives as long as the show: keep it
        # out of the collector's full passes, which walk every object with the GIL held and so
        # stalled the clock and the UI 50-200 ms every few seconds under a busy chat (issue 13)
        gc.freeze()
        return self.urls

    def _open_catalogue(self) -> None:
        self.catalogue = open_show_catalogue(self.collection, self.collection_path)
        self.card_binder = CardBinder(self.studio, self.collection, self.catalogue.catalogue)

    def _start_control(self) -> None:
        if self.control_config is None:
            return
        control = ControlServer(self, self.control_config)
        try:
            control.start()
        except OSError as exc:  # a taken port must not stop the show: the window/headless says why
            log.error("remote control not started: %s", exc)
            self.control_error = str(exc)
            return
        self.control = control

    def restart_control(self, config: ControlConfig | None) -> None:
        """New remote control settings (the window's Settings) apply now: connected tools reconnect."""
        control, self.control = self.control, None
        if control is not None:
            control.stop()
        self.control_config, self.control_error = config, None
        if self._started:
            self._start_control()

    def start_streaming(self, target: StreamTarget | None = None) -> None:
        """Push the program to ``target``, or to the local relay (the viewer page) by default."""
        if target is None:
            if self.urls is None:
                raise ValueError("no stream URL: set one in Settings, or serve locally")
            # Our own relay is on this machine: that leg has no bandwidth to adapt to, and on a busy
            # 2-core machine the relay's delay-based estimate reads CPU stalls as congestion (the
            # stream fell to 360p on a clean loopback). So it gets the full picture at a fixed rate;
            # weak viewers are served by the relay's low layer instead.
            full = self.pipeline.stream_bitrate_kbps()  # the capped size's rate (a 4K show streams 1080p)
            target = StreamTarget(self.urls.whip, low_layer_url=low_layer_url(self.urls.whip),
                                  min_bitrate_kbps=full, max_bitrate_kbps=full, adaptive_resolution=False)
        self.pipeline.start_streaming(target)

    def stop_streaming(self) -> None:
        self.pipeline.stop_streaming()

    def start_recording(self, target: Path | None = None, container: str = "mkv") -> Path:
        return self.pipeline.start_recording(target or recordings_dir(), container)

    def stop_recording(self) -> RecorderStats | None:
        return self.pipeline.stop_recording()

    def default_rundown(self) -> Path | None:
        """A rundown saved beside the collection (the demo's), offered in the rundown dock."""
        if self.collection_path is None:
            return None
        found = sorted(self.collection_path.parent.glob("*rundown*.json"))
        return found[0] if found else None

    # ---- the drama rundown ------------------------------------------------------------------
    def start_rundown(self, path: Path, segment_id: str | None = None) -> RundownExecutor:
        """Run a rundown on the program: markers on their frames, polls through the hub, branches
        chosen by the audience. Reads the file and the clips' lengths: call it off the UI thread."""
        self.stop_rundown()
        rundown = load_rundown(path)
        link_on_load(rundown)  # clips by library id: a relinked clip plays from where it is now
        executor = RundownExecutor(self.studio, rundown, self.interaction or FramePolls())
        if self.session is not None:
            self.session.bind_rundown(executor.events, path)
        if self.interaction is not None:  # viewer pages offer a buy/details button during product moments
            ProductCardRelay(self.interaction.adapter, self.net, executor.events, self._moment_product)
        if self.card_binder is not None:  # each product moment puts its product on the card
            migrate_rundown_products(executor.rundown, self.collection)
            self.card_binder.bind_rundown(executor.events, executor.rundown)
        executor.start(segment_id)
        self.rundown = executor
        return executor

    def _moment_product(self, marker: str, source: str) -> tuple[str, str] | None:
        """(product id, link) for the viewer pages' buy button during a product moment."""
        product = self.card_binder.product_for(marker, source) if self.card_binder is not None else None
        return (product.id, product.link) if product is not None else None

    def stop_rundown(self) -> None:
        executor, self.rundown = self.rundown, None
        if executor is not None:
            executor.stop()

    def stop(self) -> None:
        """Stop everything; a recording in progress is finalised first."""
        control, self.control = self.control, None
        if control is not None:
            control.stop()  # remote clients hear ExitStarted before the outputs go
        self.stop_rundown()
        if self.card_binder is not None:
            self.card_binder.close()
        self.pipeline.close()
        self.mixer.stop()
        self.studio.stop()
        if self.overlays is not None:
            self.overlays.close()
        if self.interaction is not None:
            self.interaction.stop()
        if self.showlog is not None:
            self.showlog.close()
        if self.session is not None:
            self.session.close()
        if self.services is not None and self._started:
            self.services.stop()
        self.guest_stage.close()  # after the relay ended its guests: joins their workers
        self.net.stop()
        gc.unfreeze()  # what the show left behind may be collected again
        if self.autosaver is not None:
            self.autosaver.close()
