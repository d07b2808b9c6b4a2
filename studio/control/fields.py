"""Reading ``requestData`` fields with obs-websocket's statuses: 300 missing, 401 wrong type,
402 out of range, 403 empty."""

from __future__ import annotations

import math
from typing import Any

from studio.control.protocol import RequestError, RequestStatus


class Fields:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def _get(self, name: str) -> Any:
        if not self.has(name):
            raise RequestError(RequestStatus.MISSING_REQUEST_FIELD, f"Your request is missing the `{name}` field.")
        return self.data[name]

    def string(self, name: str, allow_empty: bool = False) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise RequestError(RequestStatus.INVALID_REQUEST_FIELD_TYPE, f"The field `{name}` must be a string.")
        if not allow_empty and not value:
            raise RequestError(RequestStatus.REQUEST_FIELD_EMPTY, f"The field `{name}` must not be empty.")
        return value

    def optional_string(self, name: str) -> str | None:
        return self.string(name) if self.has(name) else None

    def boolean(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise RequestError(RequestStatus.INVALID_REQUEST_FIELD_TYPE, f"The field `{name}` must be a boolean.")
        return value

    def optional_boolean(self, name: str, default: bool) -> bool:
        return self.boolean(name) if self.has(name) else default

    def number(self, name: str, low: float | None = None, high: float | None = None) -> float:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise RequestError(RequestStatus.INVALID_REQUEST_FIELD_TYPE, f"The field `{name}` must be a number.")
        if (low is not None and value < low) or (high is not None and value > high):
            raise RequestError(RequestStatus.REQUEST_FIELD_OUT_OF_RANGE,
                               f"The field `{name}` is outside {low}..{high}.")
        return float(value)

    def integer(self, name: str, low: int | None = None, high: int | None = None) -> int:
        value = self.number(name, low, high)
        if not value.is_integer():
            raise RequestError(RequestStatus.INVALID_REQUEST_FIELD_TYPE, f"The field `{name}` must be a whole number.")
        return int(value)

    def obj(self, name: str) -> dict[str, Any]:
        value = self._get(name)
        if not isinstance(value, dict):
            raise RequestError(RequestStatus.INVALID_REQUEST_FIELD_TYPE, f"The field `{name}` must be an object.")
        return value

    def optional_obj(self, name: str) -> dict[str, Any]:
        return self.obj(name) if self.has(name) else {}

    def one_of(self, *names: str) -> str:
        """The first of ``names`` present (e.g. ``sceneName`` or ``sceneUuid``); 300 when none is."""
        for name in names:
            if self.has(name):
                return name
        raise RequestError(RequestStatus.MISSING_REQUEST_FIELD,
                           "Your request is missing one of " + ", ".join(f"`{n}`" for n in names) + ".")
