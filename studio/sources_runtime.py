"""Live source instances for a collection's source configs, kept in step with the model.

Model changes may happen on any thread; they are queued and applied on the clock thread, which is
the only thread that creates, updates, ticks or closes sources.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterable, Mapping

from scenes.model import ModelEvent, SceneCollection, SourceChanged
from scenes.registry import get_type
from scenes.sources.base import Source

log = logging.getLogger(__name__)


class SourceRuntime(Mapping[str, Source]):
    def __init__(self, collection: SceneCollection) -> None:
        self._collection = collection
        self._sources: dict[str, Source] = {}
        self._settings_seen: dict[str, dict[str, object]] = {}
        self._pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._disconnect = collection.changed.connect(self._on_model)
        with collection.lock:
            for name in collection.sources:
                self._pending.put(name)

    # Mapping interface (read on the clock thread)
    def __getitem__(self, name: str) -> Source:
        return self._sources[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    def _on_model(self, event: ModelEvent) -> None:
        if isinstance(event, SourceChanged):
            self._pending.put(event.name)

    def sync(self) -> list[tuple[str, str | None]]:
        """Apply queued model changes (clock thread). Returns (source, error) for sources whose
        error state changed."""
        changed: list[tuple[str, str | None]] = []
        while True:
            try:
                name = self._pending.get_nowait()
            except queue.Empty:
                break
            with self._collection.lock:
                cfg = self._collection.sources.get(name)
                settings = dict(cfg.settings) if cfg else None
                type_id = cfg.type_id if cfg else None
            current = self._sources.get(name)
            if settings is None or type_id is None:
                if current is not None:
                    self._close(name, current)
                continue
            if current is not None and current.type_id == type_id:
                if self._settings_seen.get(name) != settings:
                    try:
                        current.update(settings)
                    except Exception as exc:  # a bad update must not end the show
                        log.exception("updating source %s failed", name)
                        current.error = f"{name}: {exc}"
                    self._settings_seen[name] = settings
                continue
            if current is not None:
                self._close(name, current)
            try:
                created = get_type(type_id).factory(settings)
                created.frame_ns = self._collection.video.frame_ns
                self._sources[name] = created
                self._settings_seen[name] = settings
            except Exception as exc:
                log.exception("creating source %s failed", name)
                changed.append((name, f"{name}: {exc}"))
        return changed

    def adopt(self, name: str, source: Source) -> None:
        """Install a live source made elsewhere (e.g. a pre-rolled branch clip) under a configured
        name, closing the one it replaces. Clock thread only. The config's settings must already
        describe ``source`` (update the model first), or the next sync would rebuild it."""
        with self._collection.lock:
            cfg = self._collection.sources.get(name)
            settings = dict(cfg.settings) if cfg else None
        if settings is None:
            raise ValueError(f"no source named {name!r}")
        old = self._sources.get(name)
        source.frame_ns = self._collection.video.frame_ns
        self._sources[name] = source
        self._settings_seen[name] = settings
        if old is not None and old is not source:
            try:
                old.close()
            except Exception:
                log.exception("closing source %s failed", name)

    def tick(self, names: Iterable[str], clock_ns: int) -> None:
        for name in names:
            source = self._sources.get(name)
            if source is None:
                continue
            try:
                source.tick(clock_ns)
            except Exception as exc:
                log.exception("source %s tick failed", name)
                source.error = str(exc)

    def wait_ready(self, names: Iterable[str], clock_ns: int, timeout_s: float = 10.0) -> None:
        """Offline rendering: let sources that decode ahead catch up with ``clock_ns``."""
        for name in names:
            waiter = getattr(self._sources.get(name), "wait_ready", None)
            if waiter is not None:
                waiter(clock_ns, timeout_s)

    def _close(self, name: str, source: Source) -> None:
        self._sources.pop(name, None)
        self._settings_seen.pop(name, None)
        try:
            source.close()
        except Exception:
            log.exception("closing source %s failed", name)

    def close(self) -> None:
        self._disconnect()
        for name, source in list(self._sources.items()):
            self._close(name, source)
