"""Built-in source types; importing this package registers them all."""

from scenes.sources import color  # noqa: F401
