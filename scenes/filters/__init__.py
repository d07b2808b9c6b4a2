"""Built-in video filter types (chroma key, colour correction, LUT, crop/pad, sharpen, mask);
importing this package registers them all, in the order the editor offers them."""

from scenes.filters import (
    chroma_key,  # noqa: F401
    color_correction,  # noqa: F401
    crop_pad,  # noqa: F401
    lut,  # noqa: F401
    mask,  # noqa: F401
    sharpen,  # noqa: F401
)
