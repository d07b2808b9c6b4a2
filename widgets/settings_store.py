"""The desktop's own settings (language, hotkeys, dock layout, transition, video for next start,
stream and recording outputs, remote control; never the stream token nor the remote control's
password, which live in the OS keyring).

Stored as ``<data dir>/ui-settings.json`` with a ``schema_version``, written atomically with a
``.bak`` (``studio.storage``). Saving happens on a named ``ui-settings`` writer thread so the UI
never waits on the disk; ``close()`` writes what is pending and joins it.
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from scenes.model import VideoFormat
from scenes.transitions import TransitionKind
from studio.control.password import ensure_password
from studio.control.server import ControlConfig
from studio.outputs.output_scaling import check_stream_max_height
from studio.paths import data_dir
from studio.storage import (
    DamagedFileError,
    keep_known_good,
    read_json,
    read_json_bytes,
    set_aside,
    valid_backup,
    write_json_atomic,
)
from widgets.i18n import LANGUAGES

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KIND = "drama-live-studio/ui-settings"
FILE_NAME = "ui-settings.json"
DEFAULT_MIN_KBPS, DEFAULT_MAX_KBPS = 1000, 6000
KBPS_RANGE = (100, 100_000)
CONTAINERS = ("mkv", "mp4")
CONTROL_PORT_RANGE = (1024, 65535)


@dataclass
class UISettings:
    language: str = "en"
    hotkeys: dict[str, list[str]] = field(default_factory=dict)  # action id -> key sequences
    window_geometry: str = ""  # QMainWindow.saveGeometry(), base64
    window_state: str = ""  # QMainWindow.saveState() (docks), base64
    studio_mode: bool = True
    transition_kind: str = TransitionKind.FADE.value
    transition_ms: int = 300
    stinger_path: str = ""
    safe_areas: bool = True
    video: dict[str, int] | None = None  # canvas for the next start; None: the collection's own
    # outputs (the WHIP bearer token lives in the OS keyring, never here)
    stream_local_relay: bool = True  # push to the embedded relay (the local viewer page)
    stream_url: str = ""  # WHIP endpoint used when stream_local_relay is off
    stream_min_kbps: int = DEFAULT_MIN_KBPS
    stream_max_kbps: int = DEFAULT_MAX_KBPS
    # the stream's largest height (None: 1080p above 1080p, 0: the canvas); the recording keeps the canvas
    stream_max_height: int | None = None
    recording_folder: str = ""  # "": the default recordings folder
    recording_container: str = "mkv"
    # the obs-websocket v5 remote control (its password lives in the OS keyring, never here)
    control_enabled: bool = True
    control_port: int = 4455
    control_lan: bool = False  # listen on every interface, not just this computer
    control_auth: bool = True
    # platform chat merged with the viewer page (secrets live in the OS keyring, never here);
    # 0 turns a platform off; changes apply the next time the show starts
    chat_bilibili_room: int = 0
    chat_bilibili_url: str = ""  # "": Bilibili's own endpoint
    chat_douyin_port: int = 0

    def validate(self) -> UISettings:
        """Check every field; raise ValueError naming the field."""
        if self.language not in LANGUAGES:
            raise ValueError(f"language: {self.language!r} is not one of {', '.join(LANGUAGES)}")
        if not isinstance(self.hotkeys, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(s, str) for s in v)
            for k, v in self.hotkeys.items()
        ):
            raise ValueError("hotkeys: expected an object of action -> list of key sequences")
        for name in ("window_geometry", "window_state", "stinger_path"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name}: expected text")
        for name in ("studio_mode", "safe_areas"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true or false")
        TransitionKind(self.transition_kind)  # ValueError names the bad value
        if isinstance(self.transition_ms, bool) or not isinstance(self.transition_ms, int) \
                or not 0 <= self.transition_ms <= 10_000:
            raise ValueError(f"transition_ms: {self.transition_ms!r} is outside 0..10000")
        if self.video is not None:
            if not isinstance(self.video, dict) or set(self.video) != {"width", "height", "fps"}:
                raise ValueError("video: expected {width, height, fps}")
            VideoFormat(**self.video)
        self._validate_outputs()
        return self

    def _validate_outputs(self) -> None:
        if not isinstance(self.stream_local_relay, bool):
            raise ValueError("stream_local_relay: expected true or false")
        for name in ("stream_url", "recording_folder"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name}: expected text")
        if self.stream_url:
            check_whip_url(self.stream_url)
        check_bitrates(self.stream_min_kbps, self.stream_max_kbps)
        check_stream_max_height(self.stream_max_height)
        if self.recording_container not in CONTAINERS:
            raise ValueError(f"recording_container: {self.recording_container!r} is not one of mkv, mp4")
        for name in ("control_enabled", "control_lan", "control_auth"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true or false")
        if isinstance(self.control_port, bool) or not isinstance(self.control_port, int) \
                or not CONTROL_PORT_RANGE[0] <= self.control_port <= CONTROL_PORT_RANGE[1]:
            raise ValueError(f"control_port: {self.control_port!r} is outside {CONTROL_PORT_RANGE[0]}..{CONTROL_PORT_RANGE[1]}")
        for name, hi in (("chat_bilibili_room", 10**15), ("chat_douyin_port", 65535)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
                raise ValueError(f"{name}: {value!r} is outside 0..{hi}")
        if not isinstance(self.chat_bilibili_url, str) or (
                self.chat_bilibili_url and not self.chat_bilibili_url.startswith(("ws://", "wss://"))):
            raise ValueError("chat_bilibili_url: expected a ws:// or wss:// address, or nothing")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, "schema_version": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Any) -> UISettings:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ValueError("not a UI settings file")
        version = data.get("schema_version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise NewerSettingsError(f"schema_version {version} is from a newer studio (this one reads up to "
                                     f"{SCHEMA_VERSION})")
        if not isinstance(version, int) or version < 1:
            raise ValueError(f"schema_version {version!r} is not supported (up to {SCHEMA_VERSION})")
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        try:
            return cls(**values).validate()
        except TypeError as exc:
            raise ValueError(str(exc)) from None


def control_config(settings: UISettings) -> ControlConfig | None:
    """The remote control as the settings ask for it (None: off); the password from the keyring,
    generated on first use."""
    if not settings.control_enabled:
        return None
    password = ensure_password() if settings.control_auth else None
    return ControlConfig(port=settings.control_port, lan=settings.control_lan, password=password)


def chat_specs(settings: UISettings) -> list[str]:
    """The platform chat sources the settings turn on, as ``studio headless --chat`` specs."""
    specs = []
    if settings.chat_bilibili_room:
        url = f"?url={quote(settings.chat_bilibili_url, safe=':/')}" if settings.chat_bilibili_url else ""
        specs.append(f"bilibili:{settings.chat_bilibili_room}{url}")
    if settings.chat_douyin_port:
        specs.append(f"douyin-push:{settings.chat_douyin_port}")
    return specs


class NewerSettingsError(ValueError):
    """The settings file was written by a newer studio: read nothing from it, never overwrite it."""


def check_whip_url(url: str) -> str:
    """A WHIP endpoint must be an absolute http(s) URL; ValueError naming the field otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"stream_url: {url!r} is not an http:// or https:// URL")
    return url.strip()


def check_bitrates(min_kbps: int, max_kbps: int) -> None:
    """Both within ``KBPS_RANGE`` and min <= max; ValueError naming the field otherwise."""
    low, high = KBPS_RANGE
    for name, value in (("stream_min_kbps", min_kbps), ("stream_max_kbps", max_kbps)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name}: {value!r} is outside {low}..{high} kb/s")
    if min_kbps > max_kbps:
        raise ValueError(f"stream_min_kbps: {min_kbps} is above stream_max_kbps {max_kbps}")


class SettingsStore:
    """Loads settings once; ``save()`` hands a copy to the writer thread and returns at once."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path = (folder or data_dir()) / FILE_NAME
        self.problem: str | None = None  # why the file was not used (shown once by the window)
        # a newer studio's file is never overwritten: this session's changes stay in memory
        self.read_only = False
        self._damaged = False  # set the damaged file aside before the first write over it
        self.settings = self._load()
        self.saves = 0
        self.last_error: str | None = None
        self._pending: dict[str, Any] | None = None
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None

    def _load(self) -> UISettings:
        if not self.path.exists():
            return UISettings()
        try:
            data, raw = read_json_bytes(self.path)
            settings = UISettings.from_dict(data)
        except NewerSettingsError as exc:
            self.read_only = True
            self.problem = (f"{self.path}: {exc}; using default settings for this session and leaving "
                            "the file as it is (changes are not saved)")
        except ValueError as exc:  # DamagedFileError included
            self._damaged = True
            problem = exc.problem if isinstance(exc, DamagedFileError) else str(exc)
            settings_from_backup = self._load_backup()
            used = "the backup of the last good settings" if settings_from_backup else "default settings"
            self.problem = f"{self.path}: {problem}; using {used} (the damaged file is kept beside it)"
            log.warning("%s", self.problem)
            return settings_from_backup or UISettings()
        else:
            keep_known_good(self.path, raw)  # this file loads: it is the last known-good copy
            return settings
        log.warning("%s", self.problem)
        return UISettings()

    def _load_backup(self) -> UISettings | None:
        bak = valid_backup(self.path)
        if bak is None:
            return None
        try:
            return UISettings.from_dict(read_json(bak))
        except ValueError:
            return None

    def save(self) -> None:
        data = copy.deepcopy(self.settings.validate().to_dict())
        if self.read_only:
            log.info("settings not saved: %s belongs to a newer studio", self.path)
            return
        with self._cond:
            if self._closing:
                self._write(data)
                return
            self._pending = data
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ui-settings", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait_saved(self, count: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.saves >= count, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closing)
                data, self._pending = self._pending, None
                closing = self._closing
            if data is not None:
                self._write(data)
            if closing:
                return

    def _write(self, data: dict[str, Any]) -> None:
        try:
            if self._damaged:
                if self.path.exists():
                    log.warning("the damaged settings file is kept as %s", set_aside(self.path))
                self._damaged = False
            write_json_atomic(self.path, data, validate=UISettings.from_dict)
            self.last_error = None
        except OSError as exc:
            self.last_error = f"saving settings to {self.path} failed: {exc}"
            log.error(self.last_error)
        with self._cond:
            self.saves += 1
            self._cond.notify_all()

    def close(self) -> None:
        """Write anything pending and stop the writer thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
            self._thread = None
