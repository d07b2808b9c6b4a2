"""`python -m studio.bench._srt_sink PORT`: an SRT listener that takes one caller at a time and
throws the bytes away, printing the byte count on exit (its own process: its CPU is not ours)."""

from __future__ import annotations

import signal
import sys
import threading

from studio.outputs.srt_socket import SrtSocket


def main(port: int) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    listener = SrtSocket.listener(port=port)
    print(f"listening {listener.port}", flush=True)
    received = 0
    while not stop.is_set():
        peer = listener.accept()
        if peer is None:
            continue
        while not stop.is_set():
            message = peer.recv()
            if message is None:
                continue
            if not message:
                break
            received += len(message)
        peer.close()
    listener.close()
    print(f"received {received}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
