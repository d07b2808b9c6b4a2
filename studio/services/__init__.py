"""Embedded services the studio can run on the ``net`` loop (the WHIP/WHEP relay, the hub)."""
