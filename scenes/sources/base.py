"""The source interface: what the compositor and the clock need from every source type.

A source keeps its *picture* (``frame``) apart from its *status* (``status``): a problem the
operator must see ("NO SIGNAL", "MEDIA ERROR"). ``frame_for`` puts them together per view: the
operator's views (preview, multiview, thumbnails) show a status card in place of the picture; the
program, which is streamed and recorded, never does: it shows the source's fallback image, or
nothing. One rule for every source type, so no error slate can reach the audience.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from scenes.frame import VideoFrame
from scenes.sources.status_card import status_card


class View(Enum):
    """Who looks at a composited picture."""

    PROGRAM = "program"  # the audience: stream, recording, the program monitor
    PREVIEW = "preview"  # the operator: studio-mode preview, multiview, thumbnails, cut preview


@dataclass(frozen=True, slots=True)
class StatusNotice:
    """A problem that replaces a source's picture: a headline and one line of detail."""

    title: str
    detail: str


@dataclass(frozen=True, slots=True)
class Sprite:
    """A patch of a sparse picture, at (x, y) in the source's own coordinates.

    ``inv_alpha`` is ``255 - alpha`` as 4 channels, prepared once with the patch (not per frame);
    None: the patch is opaque and is copied. Sprites are drawn bottom-up, in list order.
    """

    pixels: np.ndarray  # premultiplied BGRA uint8
    inv_alpha: np.ndarray | None
    x: int
    y: int


def inverse_alpha(pixels: np.ndarray) -> np.ndarray:
    """``255 - alpha`` on all four channels: what "over" multiplies the picture underneath by."""
    inv: np.ndarray = np.repeat(255 - pixels[:, :, 3:4], 4, axis=2)
    return inv


class Source(ABC):
    """A live producer of pictures (and maybe sound).

    Runs on the ``video-clock`` thread: ``tick`` and ``frame`` must never block. Sources that do
    I/O (clips, cameras) do it on their own worker thread and hand frames over through a slot.
    ``error`` holds a human-readable problem (missing file, camera unplugged). Sources whose
    picture is gone while they have one set ``status_title``: ``status`` then reports the problem
    and ``frame_for`` shows a card saying so on the operator's views instead of failing the show.
    """

    type_id: str = ""
    # the card's headline while ``error`` is set; None: an error leaves the picture as it is
    # (a text source that failed to re-render keeps its last picture)
    status_title: str | None = None
    # the program's frame duration, set by the engine when it adopts the source (0: unknown);
    # sources that release sound hand out one frame's worth with each frame
    frame_ns: int = 0

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.error: str | None = None

    def update(self, settings: dict[str, Any]) -> None:
        """New validated settings; default re-reads everything."""
        self.settings = settings

    def tick(self, clock_ns: int) -> None:  # noqa: B027 - optional hook
        """Advance to the program clock time ``clock_ns`` (called once per output frame)."""

    @abstractmethod
    def frame(self) -> VideoFrame | None:
        """The picture to show now (premultiplied BGRA), or None for nothing. Never a status card."""

    def sprites(self) -> list[Sprite] | None:
        """The picture as patches on a transparent canvas of ``size``, or None (use ``frame``).

        Mostly transparent overlays (bullet comments) offer this so a compositor can blend each
        patch where it is instead of a full-size frame; ``frame`` must show the same picture.
        Only consulted while ``status`` reports no problem.
        """
        return None

    def status(self) -> StatusNotice | None:
        """The problem that replaces the picture now (None: the picture is good)."""
        error = self.error
        if error is None or self.status_title is None:
            return None
        return StatusNotice(self.status_title, error)

    def fallback_frame(self) -> VideoFrame | None:
        """What goes on air in place of the picture while ``status`` reports a problem (None: nothing)."""
        return None

    def frame_for(self, view: View) -> VideoFrame | None:
        """The picture for ``view``: a status card on the operator's views, never on the program."""
        notice = self.status()
        if notice is None:
            return self.frame()
        if view is View.PROGRAM:
            return self.fallback_frame()
        w, h = self.size
        return status_card(w, h, notice.title, notice.detail)

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """Native (width, height) of the picture; stable while the settings do not change."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release threads, files and devices."""
