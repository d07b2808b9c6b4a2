"""Rundown markers: things that happen at a point of a segment's time.

Markers are immutable values (replace one to change it); the segment that holds them validates
their place and emits the change. Times are seconds of *segment time*: clip time for a drama
segment (so a marker stays on the picture it was set on when the in point moves), seconds since
the cut for a live segment.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from studio.interaction.polls import (
    MAX_DURATION_S,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_DURATION_S,
    MIN_OPTIONS,
    TIE_RULES,
    TieRule,
)

MarkerKind = Literal["product", "vote", "branch"]
MARKER_KINDS: tuple[MarkerKind, ...] = ("product", "vote", "branch")
MAX_PRODUCT_S = 600.0


def new_marker_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def check_time(what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what}: expected a number of seconds, got {value!r}")
    if value < 0:
        raise ValueError(f"{what}: {value:g} s is negative")
    return float(value)


def check_text(what: str, value: Any, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: must be non-empty text")
    value = value.strip()
    if len(value) > limit:
        raise ValueError(f"{what}: {value[:20]!r}... is longer than {limit} characters")
    return value


def check_id(what: str, value: Any) -> str:
    value = check_text(what, value, 64)
    if any(c.isspace() for c in value):
        raise ValueError(f"{what}: {value!r} must not contain spaces")
    return value


@dataclass(frozen=True)
class ProductMoment:
    """Show a product card: make the card source's item in ``scene`` visible for ``duration_s``."""

    at_s: float
    scene: str
    source: str
    duration_s: float = 8.0
    id: str = field(default_factory=lambda: new_marker_id("product"))
    product: str = ""  # the catalogue product the card shows; "" = whatever the card source holds
    kind: ClassVar[MarkerKind] = "product"

    def __post_init__(self) -> None:
        object.__setattr__(self, "at_s", check_time("product moment time", self.at_s))
        object.__setattr__(self, "scene", check_text("product moment scene", self.scene))
        object.__setattr__(self, "source", check_text("product moment card source", self.source))
        duration = check_time("product moment duration", self.duration_s)
        if not 0 < duration <= MAX_PRODUCT_S:
            raise ValueError(f"product moment duration: {duration:g} s is outside 0-{MAX_PRODUCT_S:g} s")
        object.__setattr__(self, "duration_s", duration)
        object.__setattr__(self, "id", check_id("product moment id", self.id))
        if self.product:
            object.__setattr__(self, "product", check_id("product moment product", self.product))


@dataclass(frozen=True)
class VotePoint:
    """Open a poll. Its countdown is the poll's; a branch point bound to it closes it at the latest."""

    at_s: float
    question: str
    options: tuple[str, ...]
    duration_s: float = 30.0
    tie_rule: TieRule = "default"
    default_option: int = 0  # also the branch taken when nobody voted
    id: str = field(default_factory=lambda: new_marker_id("vote"))
    kind: ClassVar[MarkerKind] = "vote"

    def __post_init__(self) -> None:
        object.__setattr__(self, "at_s", check_time("vote point time", self.at_s))
        object.__setattr__(self, "question", check_text("vote question", self.question, MAX_QUESTION))
        if isinstance(self.options, str):
            raise ValueError("vote options: expected a list of options, got one text")
        options = tuple(check_text(f"vote option {i + 1}", o, MAX_OPTION) for i, o in enumerate(self.options))
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            raise ValueError(f"vote options: a poll needs {MIN_OPTIONS}-{MAX_OPTIONS} options, got {len(options)}")
        if len(set(options)) != len(options):
            raise ValueError("vote options: options must be different from each other")
        object.__setattr__(self, "options", options)
        duration = check_time("vote duration", self.duration_s)
        if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
            raise ValueError(f"vote duration: {duration:g} s is outside {MIN_DURATION_S:g}-{MAX_DURATION_S:g} s")
        object.__setattr__(self, "duration_s", duration)
        if self.tie_rule not in TIE_RULES:
            raise ValueError(f"vote tie rule: {self.tie_rule!r} is not one of {TIE_RULES}")
        d = self.default_option
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d < len(options):
            raise ValueError(f"vote default option: {d!r} is not an option index 0-{len(options) - 1}")
        object.__setattr__(self, "id", check_id("vote point id", self.id))


@dataclass(frozen=True)
class BranchPoint:
    """The segment ends here; the next one is ``targets[winner of vote]`` (one target per option)."""

    at_s: float
    vote: str  # the id of the vote point whose poll decides
    targets: tuple[str, ...]  # segment ids, in the vote's option order
    id: str = field(default_factory=lambda: new_marker_id("branch"))
    kind: ClassVar[MarkerKind] = "branch"

    def __post_init__(self) -> None:
        object.__setattr__(self, "at_s", check_time("branch point time", self.at_s))
        object.__setattr__(self, "vote", check_id("branch point vote", self.vote))
        if isinstance(self.targets, str):
            raise ValueError("branch targets: expected a list of segment ids, got one text")
        targets = tuple(check_id(f"branch target {i + 1}", t) for i, t in enumerate(self.targets))
        if not MIN_OPTIONS <= len(targets) <= MAX_OPTIONS:
            raise ValueError(f"branch targets: expected {MIN_OPTIONS}-{MAX_OPTIONS} segments, got {len(targets)}")
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "id", check_id("branch point id", self.id))


Marker = ProductMoment | VotePoint | BranchPoint
