"""Where the show goes live: a list of destinations (WHIP, RTMP/RTMPS, SRT) fed by one encode.

A ``Destination`` is what the user configures (type, server URL, enabled, SRT options); its key or
token is never part of it -- it lives in the keyring (``studio.secrets``, ``key_ref``) or comes from
an environment variable (headless), and travels as a ``Secret``. ``kind_for_url`` lets the scheme
pick the protocol (http/https = WHIP, rtmp/rtmps = RTMP, srt = SRT).

Which rendition each kind takes: WHIP gets the adaptive stream (the ladder follows *its* receiver's
feedback). RTMP and SRT platforms transcode for their own audience and want a steady input, so they
take the **main encode at the user's bitrate** (the same packets as the recording) and AAC audio;
one encode means one keyframe interval, the WHIP one (1 s; the platforms ask for at most 2 s).

Presets are the platforms' published ingest URLs (the user pastes the key) and the URL shapes of
common WHIP servers (placeholders in angle brackets are filled in by the user).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from scenes.events import Signal
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.secrets import Secret, redact


class DestinationKind(StrEnum):
    WHIP = "whip"
    RTMP = "rtmp"  # rtmp:// and rtmps://
    SRT = "srt"


SCHEMES = {"http": DestinationKind.WHIP, "https": DestinationKind.WHIP, "rtmp": DestinationKind.RTMP,
           "rtmps": DestinationKind.RTMP, "srt": DestinationKind.SRT}


def kind_for_url(url: str) -> DestinationKind:
    """The protocol a URL's scheme picks; a clear ValueError for anything else."""
    scheme = urlsplit(url.strip()).scheme.lower()
    kind = SCHEMES.get(scheme)
    if kind is None:
        shown = redact(url.split("?", 1)[0])
        raise ValueError(f"{shown}: unknown scheme {scheme or '(none)'!r}; use http(s):// for WHIP, "
                         "rtmp:// or rtmps:// for RTMP, srt:// for SRT")
    if not urlsplit(url).hostname:
        raise ValueError(f"{redact(url.split('?', 1)[0])}: the URL has no host")
    return kind


@dataclass(frozen=True)
class Preset:
    name: str
    kind: DestinationKind
    url: str  # RTMP: the server part (the key is appended); WHIP: a shape with <placeholders>
    note: str = ""


PRESETS: tuple[Preset, ...] = (
    Preset("Bilibili", DestinationKind.RTMP, "rtmp://live-push.bilivideo.com/live-bvc/",
           "直播中心 → 我的直播间: 服务器地址 + 串流密钥"),
    Preset("Douyin", DestinationKind.RTMP, "rtmp://push-rtmp-l1.douyincdn.com/stage/",
           "抖音直播伴侣 / 直播管理: 推流地址 + 推流码"),
    Preset("Kuaishou", DestinationKind.RTMP, "rtmp://open-push.voip.yximgs.com/gifshow/",
           "快手直播伴侣: 推流地址 + 推流密钥"),
    Preset("Taobao Live", DestinationKind.RTMP, "rtmp://livepush.taobao.com/mediaserver/",
           "淘宝直播中控台: 推流地址 + 推流密钥"),
    Preset("YouTube", DestinationKind.RTMP, "rtmps://a.rtmps.youtube.com:443/live2/",
           "YouTube Studio → Go live → Stream key"),
    Preset("Twitch", DestinationKind.RTMP, "rtmps://live.twitch.tv:443/app/",
           "Twitch dashboard → Settings → Stream → Primary Stream key"),
    Preset("Cloudflare Stream", DestinationKind.WHIP,
           "https://customer-<code>.cloudflarestream.com/<live-input-key>/webRTC/publish"),
    Preset("LiveKit", DestinationKind.WHIP, "https://<project>.livekit.cloud/w",
           "a WHIP ingress: the token is the ingress stream key"),
    Preset("SRS", DestinationKind.WHIP, "http://<host>:1985/rtc/v1/whip/?app=live&stream=<name>"),
    Preset("MediaMTX", DestinationKind.WHIP, "http://<host>:8889/<path>/whip"),
    Preset("Janus (simple-whip-server)", DestinationKind.WHIP, "http://<host>:7080/whip/endpoint/<id>"),
    Preset("Millicast", DestinationKind.WHIP, "https://director.millicast.com/api/whip/<stream-name>",
           "the token is the publishing token"),
)


def preset(name: str) -> Preset:
    for p in PRESETS:
        if p.name == name:
            return p
    raise ValueError(f"no destination preset named {name!r}")


@dataclass(frozen=True)
class SrtOptions:
    """SRT caller options (``srt://host:port?latency=..&streamid=..`` fills them too)."""

    latency_ms: int = 120
    streamid: str = ""
    # the passphrase is a secret: it travels beside the destination, never in it

    def __post_init__(self) -> None:
        if not 20 <= self.latency_ms <= 8000:
            raise ValueError(f"SRT latency {self.latency_ms} ms must be within 20-8000 ms")
        if len(self.streamid) > 512:
            raise ValueError("SRT streamid must be at most 512 characters")


@dataclass(frozen=True)
class Destination:
    """One place to go live. ``key_ref`` names the keyring entry of its key/token (never the key)."""

    url: str
    kind: DestinationKind | None = None  # None: from the URL's scheme
    name: str = ""
    enabled: bool = True
    srt: SrtOptions = SrtOptions()
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        kind = kind_for_url(self.url)
        if self.kind is None:
            object.__setattr__(self, "kind", kind)
        elif self.kind != kind:
            raise ValueError(f"{self.display_url}: a {self.kind.value} destination needs a "
                             f"{'/'.join(s for s, k in SCHEMES.items() if k == self.kind)} URL")
        if self.kind == DestinationKind.SRT:
            object.__setattr__(self, "srt", srt_options_from_url(self.url, self.srt))
        if not self.name:
            object.__setattr__(self, "name", urlsplit(self.url).hostname or self.url)

    @property
    def key_ref(self) -> str:
        return f"destination:{self.id}"

    @property
    def display_url(self) -> str:
        """The URL without anything that may be a key: RTMP's stream name, queries."""
        parts = urlsplit(self.url)
        path = parts.path
        if self.kind == DestinationKind.RTMP and path.count("/") >= 2:
            path = path.rsplit("/", 1)[0] + "/***"
        return redact(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{path}")

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "url": self.url, "kind": str(self.kind),
                "enabled": self.enabled, "srt": dataclasses.asdict(self.srt)}

    @staticmethod
    def from_json(data: dict[str, object]) -> Destination:
        srt = data.get("srt") or {}
        if not isinstance(srt, dict):
            raise ValueError("destination: 'srt' must be an object")
        return Destination(url=str(data["url"]), kind=DestinationKind(str(data["kind"])),
                           name=str(data.get("name", "")), enabled=bool(data.get("enabled", True)),
                           srt=SrtOptions(int(srt.get("latency_ms", 120)), str(srt.get("streamid", ""))),
                           id=str(data.get("id") or uuid.uuid4().hex[:8]))


def srt_options_from_url(url: str, defaults: SrtOptions) -> SrtOptions:
    query = parse_qs(urlsplit(url).query)
    latency = query.get("latency", [None])[0]
    streamid = query.get("streamid", [None])[0]
    return SrtOptions(int(latency) if latency else defaults.latency_ms, streamid or defaults.streamid)


@dataclass(frozen=True, slots=True)
class DestinationStats:
    id: str
    name: str
    kind: DestinationKind
    state: OutputStatus
    message: str = ""
    bitrate_kbps: float = 0.0  # sent over the last second
    dropped_frames: int = 0  # video packets dropped (slow or dead destination: to the next keyframe)
    reconnects: int = 0
    sent_frames: int = 0
    retry_in_s: float | None = None


class DestinationEvents:
    """What the GUI and headless bind to: one ``changed`` event per destination update."""

    def __init__(self) -> None:
        self.changed: Signal[DestinationStats] = Signal()
        self.removed: Signal[str] = Signal()


def stats_from_state(dest: Destination, state: OutputState, previous: DestinationStats | None) -> DestinationStats:
    base = previous or DestinationStats(dest.id, dest.name, dest.kind or DestinationKind.WHIP, state.state)
    return dataclasses.replace(base, state=state.state, message=redact(state.message), retry_in_s=state.retry_in_s)


def require_secret(value: str | None) -> Secret | None:
    return Secret(value) if value else None
