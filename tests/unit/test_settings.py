"""Settings of the connection layer: read from config and PB_* variables, checked at start-up."""

from __future__ import annotations

import pytest

from pb.settings import load_settings


def test_pool_size_and_queue_seconds_default_and_come_from_the_environment():
    assert (load_settings({}).database_pool_size, load_settings({}).database_queue_seconds) == (10, 5.0)
    settings = load_settings({"PB_DATABASE_POOL_SIZE": "4", "PB_DATABASE_QUEUE_SECONDS": "0.25"})
    assert (settings.database_pool_size, settings.database_queue_seconds) == (4, 0.25)


@pytest.mark.parametrize("variable, value", [("PB_DATABASE_POOL_SIZE", "0"), ("PB_DATABASE_QUEUE_SECONDS", "0")])
def test_an_empty_pool_or_no_time_to_queue_is_refused_in_words(variable, value):
    with pytest.raises(ValueError, match="database.pool_size must be at least 1 and database.queue_seconds"):
        load_settings({variable: value})


def test_sqlite_synchronous_is_full_or_normal():
    assert load_settings({}).database_sqlite_synchronous == "full"
    assert load_settings({"PB_DATABASE_SQLITE_SYNCHRONOUS": "NORMAL"}).database_sqlite_synchronous == "normal"
    with pytest.raises(ValueError, match='database.sqlite_synchronous must be "full" or "normal", not \'off\''):
        load_settings({"PB_DATABASE_SQLITE_SYNCHRONOUS": "off"})
