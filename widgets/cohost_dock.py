"""The Co-host dock (连麦): invite guests, answer "ask to join" requests, run the guests on air.

Binds to the co-host model (``studio.services.guests.CoHost``): its events fire on the net loop and
``CohostBridge`` re-emits them as Qt signals (queued to the UI thread); its commands may be called
from here. The guests' slots come from the studio's ``GuestStage``. Layouts (side by side, picture
in picture, full) are one command through ``Studio.submit``, one undo step. Names are chosen by
viewers: every one of them is plain text (list items and ``Qt.PlainText`` labels). The invite link
carries the guest's token: it is shown once, in this dock, and copied on request; never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scenes.events import Signal as EngineSignal
from scenes.model import SceneCollection
from studio.commands import Command
from studio.guests.layouts import LAYOUTS, LayoutKind, guest_layout
from studio.guests.stage import StageGuest
from studio.services.guests import NAME_MAX, Guest, Invite, InviteLink, JoinRequest
from widgets.i18n import bind, on_change, tr

log = logging.getLogger(__name__)

GUEST_STATES = {"waiting": "Waiting", "on_air": "On air", "muted_by_host": "Muted by host", "ended": "Ended"}
INVITE_STATES = {"open": "Unused", "used": "Used", "revoked": "Revoked", "expired": "Expired"}
LAYOUT_NAMES = {"side_by_side": "Side by side", "pip": "Picture in picture", "full": "Full"}


class CohostModel(Protocol):
    """What the dock needs from ``CoHost`` (its events and commands)."""

    guests_changed: EngineSignal[tuple[Guest, ...]]
    requests_changed: EngineSignal[tuple[JoinRequest, ...]]
    invites_changed: EngineSignal[tuple[Invite, ...]]

    def create_invite(self, name: str) -> InviteLink: ...
    def revoke_invite(self, invite_id: str) -> None: ...
    def accept_request(self, request_id: str) -> None: ...
    def decline_request(self, request_id: str) -> None: ...
    def set_on_air(self, guest_id: str, on_air: bool) -> None: ...
    def mute(self, guest_id: str, muted: bool) -> None: ...
    def kick(self, guest_id: str) -> None: ...
    def forget_guest(self, guest_id: str) -> None: ...
    def forget_invite(self, invite_id: str) -> None: ...
    def snapshot(self) -> tuple[tuple[Invite, ...], tuple[JoinRequest, ...], tuple[Guest, ...]]: ...


class StageModel(Protocol):
    changed: EngineSignal[tuple[StageGuest, ...]]

    def guests(self) -> tuple[StageGuest, ...]: ...


class LayoutTarget(Protocol):
    """The studio: its collection (to read the scene) and its command queue."""

    collection: SceneCollection

    def submit(self, command: Command) -> None: ...


class CohostBridge(QObject):
    guests = Signal(object)  # tuple[Guest, ...]
    requests = Signal(object)  # tuple[JoinRequest, ...]
    invites = Signal(object)  # tuple[Invite, ...]
    slots = Signal(object)  # tuple[StageGuest, ...]

    def __init__(self, cohost: CohostModel, stage: StageModel | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._disconnects: list[Callable[[], None]] = [
            cohost.guests_changed.connect(self.guests.emit),
            cohost.requests_changed.connect(self.requests.emit),
            cohost.invites_changed.connect(self.invites.emit),
        ]
        if stage is not None:
            self._disconnects.append(stage.changed.connect(self.slots.emit))

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()


def _plain_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _button(parent: QWidget, text: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(parent)
    bind(button, "setText", text)
    button.clicked.connect(lambda _=False: slot())
    return button


def _selected(view: QListWidget) -> str | None:
    item = view.currentItem()
    value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
    return value if isinstance(value, str) else None


class CohostDock(QWidget):
    def __init__(self, cohost: CohostModel, stage: StageModel | None = None,
                 studio: LayoutTarget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cohostDock")
        self.cohost = cohost
        self.stage = stage
        self.studio = studio
        self._invites: tuple[Invite, ...] = ()
        self._requests: tuple[JoinRequest, ...] = ()
        self._guests: tuple[Guest, ...] = ()
        self._slots: dict[str, int] = {}

        # ---- invite ----
        self.invite_name = QLineEdit(self)
        self.invite_name.setMaxLength(NAME_MAX)
        bind(self.invite_name, "setPlaceholderText", "Guest name (optional)")
        self.create_button = _button(self, "Create invite", self.create_invite)
        self.link = QLineEdit(self)
        self.link.setReadOnly(True)
        bind(self.link, "setPlaceholderText", "The invite link appears here (single use)")
        self.copy_button = _button(self, "Copy link", self.copy_link)
        self.copy_button.setEnabled(False)
        self.invite_list = QListWidget(self)
        self.invite_list.setObjectName("cohostInvites")
        self.revoke_button = _button(self, "Revoke", self.revoke)
        row = QHBoxLayout()
        row.addWidget(self.invite_name, 1)
        row.addWidget(self.create_button)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link, 1)
        link_row.addWidget(self.copy_button)
        invite_box = QGroupBox(self)
        bind(invite_box, "setTitle", "Invites")
        invite_layout = QVBoxLayout(invite_box)
        invite_layout.addLayout(row)
        invite_layout.addLayout(link_row)
        invite_layout.addWidget(self.invite_list)
        invite_layout.addWidget(self.revoke_button, 0, Qt.AlignmentFlag.AlignRight)

        # ---- requests ----
        self.request_list = QListWidget(self)
        self.request_list.setObjectName("cohostRequests")
        self.accept_button = _button(self, "Accept", self.accept)
        self.decline_button = _button(self, "Decline", self.decline)
        request_buttons = QHBoxLayout()
        request_buttons.addStretch(1)
        request_buttons.addWidget(self.accept_button)
        request_buttons.addWidget(self.decline_button)
        request_box = QGroupBox(self)
        bind(request_box, "setTitle", "Requests to join")
        request_layout = QVBoxLayout(request_box)
        request_layout.addWidget(self.request_list)
        request_layout.addLayout(request_buttons)

        # ---- guests ----
        self.guest_list = QListWidget(self)
        self.guest_list.setObjectName("cohostGuests")
        self.on_air_button = _button(self, "On air", lambda: self.set_on_air(True))
        self.off_air_button = _button(self, "Off air", lambda: self.set_on_air(False))
        self.mute_button = _button(self, "Mute", lambda: self.mute(True))
        self.unmute_button = _button(self, "Unmute", lambda: self.mute(False))
        self.kick_button = _button(self, "Kick", self.kick)
        self.clear_button = _button(self, "Clear ended", self.clear_ended)
        guest_buttons = QHBoxLayout()
        for button in (self.on_air_button, self.off_air_button, self.mute_button, self.unmute_button,
                       self.kick_button, self.clear_button):
            guest_buttons.addWidget(button)
        self.layout_choice = QComboBox(self)
        for kind in LAYOUTS:
            self.layout_choice.addItem(LAYOUT_NAMES[kind], kind)
        on_change(self.layout_choice, self._retranslate_layouts)
        self.apply_layout_button = _button(self, "Apply layout", self.apply_layout)
        self.apply_layout_button.setEnabled(studio is not None)
        layout_row = QHBoxLayout()
        layout_row.addWidget(self.layout_choice, 1)
        layout_row.addWidget(self.apply_layout_button)
        self.message = _plain_label(self)
        self.message.setWordWrap(True)
        guest_box = QGroupBox(self)
        bind(guest_box, "setTitle", "Guests")
        guest_layout_box = QVBoxLayout(guest_box)
        guest_layout_box.addWidget(self.guest_list)
        guest_layout_box.addLayout(guest_buttons)
        guest_layout_box.addLayout(layout_row)

        root = QVBoxLayout(self)
        root.addWidget(invite_box)
        root.addWidget(request_box)
        root.addWidget(guest_box)
        root.addWidget(self.message)

        self.bridge = CohostBridge(cohost, stage, self)
        self.bridge.invites.connect(self._set_invites)
        self.bridge.requests.connect(self._set_requests)
        self.bridge.guests.connect(self._set_guests)
        self.bridge.slots.connect(self._set_slots)
        on_change(self, self._refresh_all)
        try:
            invites, requests, guests = cohost.snapshot()
        except TimeoutError as exc:  # a busy loop: the events fill the lists in soon
            log.warning("co-host dock: no snapshot yet: %s", exc)
        else:
            self._set_invites(invites)
            self._set_requests(requests)
            self._set_guests(guests)
        if stage is not None:
            self._set_slots(stage.guests())

    # ---- events (UI thread) -----------------------------------------------------------------------

    def _set_invites(self, invites: tuple[Invite, ...]) -> None:
        self._invites = invites
        self._fill(self.invite_list, [(i.invite_id, f"{i.name} · {tr(INVITE_STATES.get(i.state, i.state))}")
                                      for i in invites])

    def _set_requests(self, requests: tuple[JoinRequest, ...]) -> None:
        self._requests = requests
        self._fill(self.request_list, [(r.request_id, r.nick) for r in requests])

    def _set_guests(self, guests: tuple[Guest, ...]) -> None:
        self._guests = guests
        rows = []
        for g in guests:
            slot = self._slots.get(g.guest_id)
            where = tr("Guest {slot}").format(slot=slot) if slot is not None else "—"
            camera = "" if g.has_video else f" · {tr('audio only')}"
            state = tr(GUEST_STATES.get(g.state, g.state))
            detail = f" ({g.end_reason})" if g.state == "ended" and g.end_reason else ""
            rows.append((g.guest_id, f"{where} · {g.name} · {state}{detail}{camera}"))
        self._fill(self.guest_list, rows)

    def _set_slots(self, slots: tuple[StageGuest, ...]) -> None:
        self._slots = {s.guest_id: s.slot for s in slots}
        self._set_guests(self._guests)

    def _refresh_all(self) -> None:
        self._set_invites(self._invites)
        self._set_requests(self._requests)
        self._set_guests(self._guests)

    def _retranslate_layouts(self) -> None:
        for i in range(self.layout_choice.count()):
            kind = self.layout_choice.itemData(i)
            self.layout_choice.setItemText(i, tr(LAYOUT_NAMES.get(kind, str(kind))))

    @staticmethod
    def _fill(view: QListWidget, rows: list[tuple[str, str]]) -> None:
        """Replace the rows (plain text), keeping the selection on the same id."""
        keep = _selected(view)
        view.clear()
        for key, text in rows:
            item = QListWidgetItem(text)  # item views draw display text plainly: no markup
            item.setData(Qt.ItemDataRole.UserRole, key)
            view.addItem(item)
            if key == keep:
                view.setCurrentItem(item)

    # ---- commands ---------------------------------------------------------------------------------

    def create_invite(self) -> InviteLink | None:
        try:
            link = self.cohost.create_invite(self.invite_name.text())
        except (TimeoutError, ValueError) as exc:
            self.message.setText(tr("Cannot create an invite: {error}").format(error=exc))
            return None
        self.link.setText(link.url)
        self.copy_button.setEnabled(True)
        self.invite_name.clear()
        self.message.setText(tr("Send the link to your guest; it works once."))
        return link

    def copy_link(self) -> None:
        if self.link.text():
            QGuiApplication.clipboard().setText(self.link.text())
            self.message.setText(tr("Invite link copied."))

    def revoke(self) -> None:
        invite_id = _selected(self.invite_list)
        if invite_id is not None:
            self.cohost.revoke_invite(invite_id)

    def accept(self) -> None:
        request_id = _selected(self.request_list)
        if request_id is not None:
            self.cohost.accept_request(request_id)

    def decline(self) -> None:
        request_id = _selected(self.request_list)
        if request_id is not None:
            self.cohost.decline_request(request_id)

    def set_on_air(self, on_air: bool) -> None:
        guest_id = _selected(self.guest_list)
        if guest_id is not None:
            self.cohost.set_on_air(guest_id, on_air)

    def mute(self, muted: bool) -> None:
        guest_id = _selected(self.guest_list)
        if guest_id is not None:
            self.cohost.mute(guest_id, muted)

    def kick(self) -> None:
        guest_id = _selected(self.guest_list)
        if guest_id is not None:
            self.cohost.kick(guest_id)

    def clear_ended(self) -> None:
        """Drop guests who left and invites that can no longer be used from the lists."""
        for guest in self._guests:
            if guest.state == "ended":
                self.cohost.forget_guest(guest.guest_id)
        for invite in self._invites:
            if invite.state != "open":
                self.cohost.forget_invite(invite.invite_id)

    def apply_layout(self) -> None:
        """Lay out the scene being prepared (preview in studio mode, else program) for the guests."""
        studio = self.studio
        kind: LayoutKind = self.layout_choice.currentData()
        slots = tuple(sorted(self._slots.values()))
        if studio is None:
            return
        if not slots:
            self.message.setText(tr("No guest has joined yet."))
            return
        collection = studio.collection
        with collection.lock:
            scene = collection.preview_scene or collection.program_scene
            host = _host_source(collection, scene) if scene else None
        if scene is None:
            return
        try:
            studio.submit(guest_layout(collection, scene, kind, slots, host_source=host))
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(tr("Layout applied to {scene}.").format(scene=scene))

    def close_bridge(self) -> None:
        self.bridge.close()


def _host_source(collection: SceneCollection, scene: str) -> str | None:
    """The host's picture: the scene's first camera item (None: lay out the guests alone)."""
    for item in collection.scene(scene).items:
        cfg = collection.sources.get(item.source)
        if cfg is not None and cfg.type_id == "camera":
            return str(item.source)
    return None
