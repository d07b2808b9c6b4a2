"""aiortc bridging: our encoded packets in and out of aiortc without its encoder or decoder.

Each module isolates one adjustment to aiortc 1.16 and says why it is needed:

- ``codecs``: offer/answer the H.264 level we actually send (aiortc only knows level 3.1).
- ``playout_delay``: ask receivers for zero playout delay (RTP header extension).
- ``loopback``: let ICE use 127.0.0.1 so the studio and the embedded relay work offline.
- ``packet_track``: a track whose ``recv()`` returns our encoded packets as ``av.Packet``.
- ``feedback``: PLI/FIR/REMB/NACK from receivers reach our encoder (aiortc only feeds its own).
- ``passthrough``: receivers hand on depayloaded encoded frames instead of decoding, and release
  a frame on its RTP marker bit instead of waiting for the next frame; broken frames are dropped
  and the stream held for a keyframe.
- ``nack_retry``: missing packets are asked for again on an RTT-based timer and given up by time.
- ``rtp_history``: a retransmission history of >= 1 s at any bitrate (aiortc keeps 128 packets).
- ``pacer``: video packets leave paced (audio, RTCP and retransmissions first).
- ``sender_setup``: history + pacing for one video sender (WHIP output, relay viewers).
- ``internals``: every aiortc/aioice internal the above patch, checked at import against the
  pinned versions (imported here, so any ``studio.webrtc`` import checks them).
"""

from studio.webrtc import internals  # noqa: F401  (fails early, naming what changed)
