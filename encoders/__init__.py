"""Video/audio encoders, hardware probing and packet fan-out (no network, no Qt widgets)."""
