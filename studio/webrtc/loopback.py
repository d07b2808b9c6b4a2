"""Let ICE gather a 127.0.0.1 host candidate.

aioice 0.13's ``get_host_addresses`` drops 127.0.0.1 and ``Connection`` has no option to keep it
(``use_ipv4``/``use_ipv6`` only choose families), so on a machine with no network the studio
could not reach the embedded relay. :func:`enable` wraps that one function (process-wide,
idempotent) to append 127.0.0.1: peers on other machines just get one more candidate that
fails its checks harmlessly. Always give peers ``RTCConfiguration(iceServers=[])`` (or real
servers) too: aiortc's default is a public STUN server that an offline machine cannot reach.
"""

from __future__ import annotations

from collections.abc import Callable

import aioice.ice

_LOOPBACK = "127.0.0.1"


def enable() -> None:
    original: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses
    if getattr(original, "_studio_loopback", False):
        return

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = list(original(use_ipv4, use_ipv6))
        if use_ipv4 and _LOOPBACK not in addresses:
            addresses.append(_LOOPBACK)
        return addresses

    get_host_addresses._studio_loopback = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = get_host_addresses


def is_enabled() -> bool:
    return bool(getattr(aioice.ice.get_host_addresses, "_studio_loopback", False))
