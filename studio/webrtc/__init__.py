"""aiortc bridging: our encoded packets in and out of aiortc without its encoder or decoder.

Each module isolates one adjustment to aiortc 1.16 and says why it is needed:

- ``codecs``: offer/answer the H.264 level we actually send (aiortc only knows level 3.1).
- ``playout_delay``: ask receivers for zero playout delay (RTP header extension).
- ``loopback``: let ICE use 127.0.0.1 so the studio and the embedded relay work offline.
- ``packet_track``: a track whose ``recv()`` returns our encoded packets as ``av.Packet``.
- ``feedback``: PLI/FIR/REMB/NACK from receivers reach our encoder (aiortc only feeds its own).
- ``passthrough``: receivers hand on depayloaded encoded frames instead of decoding, and release
  a frame on its RTP marker bit instead of waiting for the next frame.
"""
