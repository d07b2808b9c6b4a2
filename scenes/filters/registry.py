"""Registered filter types, as ``scenes.registry`` registers source types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scenes.filters.base import FilterConfig, FilterType

_types: dict[str, FilterType] = {}


def register(filter_type: FilterType) -> FilterType:
    if filter_type.id in _types and _types[filter_type.id] is not filter_type:
        raise ValueError(f"filter type {filter_type.id!r} is registered twice")
    _types[filter_type.id] = filter_type
    return filter_type


def get_filter_type(type_id: str) -> FilterType:
    _ensure_builtin()
    try:
        return _types[type_id]
    except KeyError:
        raise ValueError(f"unknown filter type {type_id!r}") from None


def all_filter_types() -> list[FilterType]:
    _ensure_builtin()
    return list(_types.values())


def make_config(type_id: str, settings: Mapping[str, Any] | None = None, enabled: bool = True) -> FilterConfig:
    """A validated config (defaults filled in); ValueError naming the field otherwise."""
    ftype = get_filter_type(type_id)
    if not isinstance(enabled, bool):
        raise ValueError(f"{type_id}: enabled must be true or false")
    return FilterConfig(type_id, ftype.validate(settings or {}), enabled)


def validate_filters(filters: Iterable[Any]) -> tuple[FilterConfig, ...]:
    """Check a whole filter list (what a source carries); the index of a bad one is in the message."""
    out: list[FilterConfig] = []
    for i, f in enumerate(filters):
        if not isinstance(f, FilterConfig):
            raise ValueError(f"filters[{i}]: expected a filter, got {type(f).__name__}")
        try:
            out.append(make_config(f.type_id, f.settings, f.enabled))
        except ValueError as exc:
            raise ValueError(f"filters[{i}]: {exc}") from None
    return tuple(out)


def _ensure_builtin() -> None:
    # importing the package registers every built-in filter type
    import scenes.filters  # noqa: F401
