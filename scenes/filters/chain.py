"""Runs each source's filters on the video-clock thread, once per new source frame.

``FilterBank.apply(source, configs, frame)`` returns the filtered frame. The result is cached by
the input frame's serial and the filter list, so a camera at 30 fps is keyed 30 times a second
however many scenes, compositors (program and preview share one bank) or program frames show it,
and a still image is filtered once. The output keeps its serial while cached, so the
compositor's own scale cache keeps hitting too.

A filter that cannot be built (a broken .cube, a missing mask image) or that fails on a frame is
skipped: the picture goes on unfiltered and ``errors()`` says why. The show goes on.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from scenes.filters.base import FilterConfig, VideoFilter
from scenes.filters.registry import get_filter_type
from scenes.frame import VideoFrame

log = logging.getLogger(__name__)

MAX_SOURCES = 64  # sources whose chains are kept; least recently used go first


@dataclass
class _Chain:
    configs: tuple[FilterConfig, ...]
    filters: list[VideoFilter | None]  # None: could not be built (see errors)
    errors: dict[int, str]
    # input serial -> output; two entries: the program and preview may see different frames
    # (a fallback image on program, a status card on preview)
    outputs: OrderedDict[int, VideoFrame] = field(default_factory=OrderedDict)


class FilterBank:
    """Filter chains per source name. Clock thread only (not thread-safe)."""

    def __init__(self) -> None:
        self._chains: OrderedDict[str, _Chain] = OrderedDict()
        self.runs = 0  # filter-chain executions (a new source frame went through)

    def apply(self, source: str, configs: tuple[FilterConfig, ...], frame: VideoFrame) -> VideoFrame:
        if not configs:
            if source in self._chains:
                del self._chains[source]
            return frame
        chain = self._chains.get(source)
        if chain is None or chain.configs != configs:
            chain = self._build(configs)
            self._chains[source] = chain
            while len(self._chains) > MAX_SOURCES:
                self._chains.popitem(last=False)
        else:
            self._chains.move_to_end(source)
        out = chain.outputs.get(frame.serial)
        if out is not None:
            return out
        out = self._run(source, chain, frame)
        chain.outputs[frame.serial] = out
        while len(chain.outputs) > 2:
            chain.outputs.popitem(last=False)
        return out

    def errors(self, source: str) -> list[str]:
        """Why filters on ``source`` are being skipped (empty: all run). Any thread may ask: the
        copy of the dict is one step under the GIL."""
        chain = self._chains.get(source)
        if chain is None:
            return []
        errors = dict(chain.errors)
        return [errors[i] for i in sorted(errors)]

    def _build(self, configs: tuple[FilterConfig, ...]) -> _Chain:
        filters: list[VideoFilter | None] = []
        errors: dict[int, str] = {}
        for i, cfg in enumerate(configs):
            if not cfg.enabled:
                filters.append(None)
                continue
            try:
                filters.append(get_filter_type(cfg.type_id).factory(cfg.settings))
            except Exception as exc:  # a broken filter must not end the show
                log.warning("filter %d (%s) cannot run: %s", i + 1, cfg.type_id, exc)
                errors[i] = f"{cfg.type_id}: {exc}"
                filters.append(None)
        return _Chain(configs, filters, errors)

    def _run(self, source: str, chain: _Chain, frame: VideoFrame) -> VideoFrame:
        self.runs += 1
        pts = frame.pts_ns
        for i, flt in enumerate(chain.filters):
            if flt is None:
                continue
            try:
                frame = flt.apply(frame)
            except Exception as exc:
                if i not in chain.errors:
                    log.exception("filter %d (%s) on %s failed; skipping it", i + 1, chain.configs[i].type_id,
                                  source)
                chain.errors[i] = f"{chain.configs[i].type_id}: {exc}"
                chain.filters[i] = None
        if frame.pts_ns != pts:
            frame = VideoFrame(frame.pixels, frame.opaque, frame.serial, pts)
        return frame
