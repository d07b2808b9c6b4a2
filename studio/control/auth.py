"""obs-websocket authentication: a salted, challenged SHA-256 so the password never crosses the wire.

    secret = base64(sha256(password + salt));  response = base64(sha256(secret + challenge))

The salt is fixed per password (it may be kept); the challenge is new for every connection, so a
recorded response is useless on the next one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


def _b64_sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def auth_response(password: str, salt: str, challenge: str) -> str:
    """What a client sends as ``authentication`` in Identify."""
    return _b64_sha256(_b64_sha256(password + salt) + challenge)


def random_token(nbytes: int = 32) -> str:
    return base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def generate_password() -> str:
    """A password a director can read out and type: 16 characters, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


@dataclass(frozen=True)
class Challenge:
    """What one connection's Hello carries, and how its Identify is checked."""

    salt: str
    challenge: str

    @classmethod
    def new(cls, salt: str) -> Challenge:
        return cls(salt, random_token())

    def as_hello(self) -> dict[str, str]:
        return {"challenge": self.challenge, "salt": self.salt}

    def verify(self, password: str, response: object) -> bool:
        if not isinstance(response, str):
            return False
        expected = auth_response(password, self.salt, self.challenge)
        return hmac.compare_digest(expected.encode("ascii"), response.encode("utf-8", "replace"))
