"""Session-wide fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from featuresql import kafka_broker


@pytest.fixture(scope="session")
def kafka_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kafka_broker.Broker]:
    """A real single-node Kafka broker for the whole session (fetched on first use, stopped at the end)."""
    from kafka_support import start_broker

    run_dir = tmp_path_factory.mktemp("kafka")
    broker = start_broker(run_dir)
    try:
        yield broker
    finally:
        kafka_broker.stop(run_dir)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_session: kafka_broker.Broker) -> str:
    """The session broker's bootstrap address, 127.0.0.1:PORT."""
    return kafka_session.bootstrap
