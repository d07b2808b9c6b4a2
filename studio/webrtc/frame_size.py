"""The picture size an encoded keyframe declares, without decoding it.

The relay checks what a co-host's browser really sends (a page asks for 1280x720, but a
modified page or another client may send 4K): H.264 from the sequence parameter set in the
access unit (ITU-T H.264 7.3.2.1.1), VP8 from its key frame header (RFC 6386 9.1).
"""

from __future__ import annotations

_NAL_SPS = 7
_HIGH_PROFILES = (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def bit(self) -> int:
        byte = self._pos >> 3
        if byte >= len(self._data):
            raise ValueError("SPS ends early")
        value = (self._data[byte] >> (7 - (self._pos & 7))) & 1
        self._pos += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code in SPS")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + bits.se() + 256) % 256
        last = nxt if nxt != 0 else last


def _sps_size(rbsp: bytes) -> tuple[int, int]:
    bits = _Bits(rbsp)
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in _HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            bits.bit()
        bits.ue()
        bits.ue()
        bits.bit()
        if bits.bit():  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bit()
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()
    bits.bit()  # direct_8x8_inference_flag
    width, height = width_mbs * 16, height_units * 16 * (2 - frame_mbs_only)
    if bits.bit():  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        crop_x = 1 if chroma_format == 0 or chroma_format == 3 else 2
        crop_y = (1 if chroma_format in (0, 3) or chroma_format == 2 else 2) * (2 - frame_mbs_only)
        width -= crop_x * (left + right)
        height -= crop_y * (top + bottom)
    return width, height


def h264_frame_size(annexb: bytes) -> tuple[int, int] | None:
    """(width, height) from the first SPS in an Annex B access unit; None without one."""
    i = annexb.find(b"\x00\x00\x01")
    while i != -1 and i + 3 < len(annexb):
        start = i + 3
        nxt = annexb.find(b"\x00\x00\x01", start)
        if annexb[start] & 0x1F == _NAL_SPS:
            end = len(annexb) if nxt == -1 else nxt
            try:
                return _sps_size(_unescape(annexb[start + 1:end]))
            except ValueError:
                return None
        i = nxt
    return None


def vp8_frame_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) of a VP8 key frame; None for an inter frame."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height


def frame_size(codec: str, data: bytes) -> tuple[int, int] | None:
    """The size a keyframe of ``codec`` ("h264" or "vp8") declares; None when it says none."""
    if codec == "h264":
        return h264_frame_size(data)
    if codec == "vp8":
        return vp8_frame_size(data)
    return None


__all__ = ["frame_size", "h264_frame_size", "vp8_frame_size"]
