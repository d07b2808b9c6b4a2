"""Tokens in the keyring, never in repr() or logs."""

from __future__ import annotations

import logging

import keyring
import keyring.backends.fail
import pytest
from tests_keyring import MemoryKeyring

from studio import secrets


def test_token_round_trip_under_the_studio_service(memory_keyring: MemoryKeyring) -> None:
    secrets.set_token("whip:main", "tok-12345")
    assert memory_keyring.store == {("drama-live-studio", "whip:main"): "tok-12345"}
    token = secrets.get_token("whip:main")
    assert token is not None and token.reveal() == "tok-12345"
    assert "tok-12345" not in repr(token) and "tok-12345" not in f"{token}"
    assert secrets.delete_token("whip:main")
    assert not secrets.delete_token("whip:main")
    assert secrets.get_token("whip:main") is None


def test_no_backend_gives_a_clear_message() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        with pytest.raises(secrets.SecretStoreError, match="no OS keyring"):
            secrets.get_token("whip:main")
        with pytest.raises(secrets.SecretStoreError, match="no OS keyring"):
            secrets.set_token("whip:main", "tok-abcdef")
    finally:
        keyring.set_keyring(previous)


def test_bad_names_and_tokens_are_rejected(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ValueError, match="secret key"):
        secrets.set_token("  ", "tok-1234")
    with pytest.raises(ValueError, match="non-empty"):
        secrets.set_token("whip:main", "")


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    secrets.Secret("very-secret-value")
    logger = logging.getLogger("test.whip.redaction")
    flt = secrets.install_log_redaction(logger)
    try:
        with caplog.at_level(logging.INFO, logger="test.whip.redaction"):
            logger.info("posting with %s", "very-secret-value")
            logger.info("header Authorization: Bearer other-token-xyz sent")
        text = caplog.text
        assert "very-secret-value" not in text and "other-token-xyz" not in text
        assert "posting with ***" in text and "Bearer ***" in text
    finally:
        logger.removeFilter(flt)
