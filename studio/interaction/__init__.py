"""Live interaction without pictures: typed messages, the wire protocol, the embedded hub,
source adapters, moderation, polls, the show log and the advertising-law check.

Overlays (bullet comments, poll bars) live with the text rasteriser, not here.
"""

from studio.interaction.adapters import Adapter, EmbeddedHubAdapter, WebSocketAdapter
from studio.interaction.compliance import ComplianceChecker, ComplianceWarning, check_text
from studio.interaction.hub import HubConfig, HubServer, HubStats, HubThread
from studio.interaction.messages import (
    Announcement,
    Danmaku,
    Enter,
    Gift,
    Like,
    Message,
    PollState,
    ProductClick,
    ViewerMessage,
    Vote,
)
from studio.interaction.moderation import DanmakuEvent, DanmakuPinned, DanmakuRemoved, Moderator
from studio.interaction.polls import Poll, PollClosed, PollUpdated
from studio.interaction.protocol import Limits, ProtocolError
from studio.interaction.replay import ReplayAdapter, load_replay
from studio.interaction.service import GiftReceived, InteractionService, LikesUpdated, SourceStatus
from studio.interaction.showlog import ShowLog

__all__ = [
    "Adapter", "Announcement", "ComplianceChecker", "ComplianceWarning", "Danmaku", "DanmakuEvent",
    "DanmakuPinned", "DanmakuRemoved", "EmbeddedHubAdapter", "Enter", "Gift", "GiftReceived",
    "HubConfig", "HubServer", "HubStats", "HubThread", "InteractionService", "Like", "LikesUpdated",
    "Limits", "Message", "Moderator", "Poll", "PollClosed", "PollState", "PollUpdated", "ProductClick",
    "ProtocolError", "ReplayAdapter", "ShowLog", "SourceStatus", "ViewerMessage", "Vote",
    "WebSocketAdapter", "check_text", "load_replay",
]  # fmt: skip
