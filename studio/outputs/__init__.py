"""Outputs fed by the packet fan-out: WHIP streaming (``whip``) and the crash-safe recorder (``recorder``).

Import the submodules directly; this package imports nothing so the recorder stays usable without
the network stack.
"""
