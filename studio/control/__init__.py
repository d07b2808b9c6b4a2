"""Remote control that existing tools speak: an obs-websocket v5 (rpcVersion 1) compatible server.

Stream Deck (Bitfocus Companion), Touch Portal, obsws-python scripts and obs-websocket-js panels
drive the studio through it. ``server`` runs on the show's ``net`` loop; every request that changes
state goes through the engine's command path (``requests``), events come from the engine, mixer and
outputs (``events``); vendor requests (``vendor``) reach the rundown, polls, product cards and
pinned danmaku. Turned on in Settings (GUI) or with ``--control-port`` (headless).
"""
