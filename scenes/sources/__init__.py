"""Built-in source types; importing this package registers them all."""

from scenes.sources import (
    camera,  # noqa: F401
    color,  # noqa: F401
    danmaku_overlay,  # noqa: F401
    guest,  # noqa: F401
    image,  # noqa: F401
    media,  # noqa: F401
    poll_overlay,  # noqa: F401
    product_card,  # noqa: F401
    reactions_overlay,  # noqa: F401
    test_pattern,  # noqa: F401
    text,  # noqa: F401
)
