"""The latency stamp (``scenes.stamp``) read in the browser, for the benchmarks that drive Chromium.

``STAMP_READER_JS`` is a JavaScript function expression ``(video, programHeight) => readStamp``;
``readStamp(frameHeight)`` returns the stamp's value (wall-clock ms at composite) of the frame the
video element shows now, or ``null`` when it cannot be read. The stamp's 16 px cells sit at the
top-left of the program; when the picture reaches the browser smaller than the program (a rate
ladder step) the cells shrink with it, so the reader scales its sampling grid by
``frameHeight / programHeight`` (``programHeight`` 0: no scaling). It samples each cell's centre,
checks the timing pattern and the CRC (the layout in scenes/stamp.py).
"""

from __future__ import annotations

STAMP_READER_JS = """
(video, programHeight) => {
  const canvas = document.createElement('canvas');
  canvas.width = 320; canvas.height = 80;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const crc16 = (bits) => { let crc = 0xFFFF; for (const b of bits) { const fb = ((crc >> 15) & 1) ^ b;
    crc = (crc << 1) & 0xFFFF; if (fb) crc ^= 0x1021; } return crc; };
  return (frameHeight) => {
    const scale = programHeight > 0 && frameHeight > 0 ? frameHeight / programHeight : 1;
    ctx.drawImage(video, 0, 0, 320 * scale, 80 * scale, 0, 0, 320, 80);
    const px = ctx.getImageData(0, 0, 320, 80).data;
    const cell = (r, c) => { const i = ((r * 16 + 8) * 320 + c * 16 + 8) * 4;
      return (0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]) > 128 ? 1 : 0; };
    for (let c = 0; c < 20; c++) if (cell(0, c) !== (c % 2 === 0 ? 1 : 0)) return null;
    for (let r = 0; r < 5; r++) if (cell(r, 0) !== (r % 2 === 0 ? 1 : 0)) return null;
    const bits = [];
    for (let i = 0; i < 76; i++) bits.push(cell(1 + Math.floor(i / 19), 1 + (i % 19)));
    let value = 0, crc = 0;
    for (let i = 0; i < 44; i++) value = value * 2 + bits[i];
    for (let i = 60; i < 76; i++) crc = crc * 2 + bits[i];
    return crc === crc16(bits.slice(0, 60)) ? value : null;
  };
}
"""
