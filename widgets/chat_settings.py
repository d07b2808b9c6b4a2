"""The Settings dialog's Platform chat page: a Bilibili room (its endpoint, its auth key) and the
Douyin live-data push receiver (its port, the app secret).

Room, endpoint and port are settings (``UISettings.chat_*``); the key and the secret go to the OS
keyring when typed (``studio.interaction.chat_sources`` names them) and are never shown again: an
empty field keeps what is stored. Changes apply the next time the show starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from studio.interaction.adapters import Adapter
from studio.interaction.chat_sources import (
    DOUYIN_SECRET_NAME,
    bilibili_key_name,
    build_adapter,
    parse_chat_spec,
)
from studio.secrets import SecretStoreError, get_token, set_token
from widgets.i18n import bind, on_change, tr
from widgets.settings_store import UISettings, chat_specs

HINT = "Keys are kept in the system keyring, never in the settings file. Changes apply the next time the show starts."


@dataclass(frozen=True)
class ChatValues:
    bilibili_room: int = 0  # 0: off
    bilibili_url: str = ""  # "": Bilibili's own endpoint
    douyin_port: int = 0  # 0: off

    @classmethod
    def from_settings(cls, s: UISettings) -> ChatValues:
        return cls(s.chat_bilibili_room, s.chat_bilibili_url, s.chat_douyin_port)

    def store_into(self, s: UISettings) -> None:
        s.chat_bilibili_room, s.chat_bilibili_url, s.chat_douyin_port = \
            self.bilibili_room, self.bilibili_url, self.douyin_port


def _stored(name: str) -> bool:
    try:
        return get_token(name) is not None
    except SecretStoreError:
        return False


class ChatSettingsPage(QWidget):
    def __init__(self, values: ChatValues, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.room = QSpinBox(self)
        self.room.setObjectName("chatBilibiliRoom")
        self.room.setRange(0, 2_000_000_000)
        self.room.setValue(min(values.bilibili_room, 2_000_000_000))
        bind(self.room, "setSpecialValueText", "Off")
        self.url = QLineEdit(self)
        self.url.setText(values.bilibili_url)
        bind(self.url, "setPlaceholderText", "Bilibili's own endpoint")
        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.port = QSpinBox(self)
        self.port.setObjectName("chatDouyinPort")
        self.port.setRange(0, 65535)
        self.port.setValue(values.douyin_port)
        bind(self.port, "setSpecialValueText", "Off")
        self.secret = QLineEdit(self)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(self)
        self.error.setObjectName("fieldError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        hint = QLabel(self)
        hint.setTextFormat(Qt.TextFormat.PlainText)
        hint.setWordWrap(True)
        bind(hint, "setText", HINT)
        labels = []
        for text in ("Bilibili room", "Endpoint", "Room key", "Douyin push port", "App secret"):
            label = QLabel(self)
            bind(label, "setText", text)
            labels.append(label)
        for label, widget in zip(labels, (self.room, self.url, self.key, self.port, self.secret), strict=True):
            form.addRow(label, widget)
        form.addRow(hint)
        form.addRow(self.error)
        self.room.valueChanged.connect(lambda _v: self._placeholders())
        on_change(self, self._placeholders)

    def _placeholders(self) -> None:
        room = self.room.value()
        self.key.setEnabled(room > 0)
        self.key.setPlaceholderText(tr("Stored: leave empty to keep it") if room and _stored(bilibili_key_name(room))
                                    else tr("Optional"))
        self.secret.setPlaceholderText(tr("Stored: leave empty to keep it") if _stored(DOUYIN_SECRET_NAME)
                                       else tr("Required for Douyin"))

    def values(self) -> ChatValues:
        return ChatValues(self.room.value(), self.url.text().strip(), self.port.value())

    def problem(self) -> str:
        url = self.url.text().strip()
        if url and not url.startswith(("ws://", "wss://")):
            return tr("The endpoint must start with ws:// or wss://")
        return ""

    def store_secrets(self) -> bool:
        """Typed key/secret into the keyring; False (and the reason shown) when that fails."""
        self.error.setText(self.problem())
        if self.error.text():
            return False
        try:
            if self.key.text() and self.room.value():
                set_token(bilibili_key_name(self.room.value()), self.key.text())
            if self.secret.text():
                set_token(DOUYIN_SECRET_NAME, self.secret.text())
        except (SecretStoreError, ValueError) as exc:
            self.error.setText(str(exc))
            return False
        self.key.clear()
        self.secret.clear()
        self._placeholders()
        return True


def chat_adapters_for(settings: UISettings) -> tuple[list[Adapter], str]:
    """The platform chat sources the settings turn on, and what kept any of them off ("" if none)."""
    adapters: list[Adapter] = []
    problems: list[str] = []
    for spec in chat_specs(settings):
        try:
            adapters.append(build_adapter(parse_chat_spec(spec)))
        except ValueError as exc:
            problems.append(f"platform chat {spec.split('?')[0]} is off: {exc}")
    return adapters, "; ".join(problems)
