"""A real Kafka broker for the test session, and small confluent-kafka helpers.

The broker is the one `scripts/kafka` runs (featuresql/kafka_broker.py):
fetched into the jar cache on first use, started once per test session on a
free port with fresh storage, stopped at the end. A watchdog stops it too if
the test process dies without cleaning up.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from featuresql import kafka_broker


def start_broker(run_dir: Path) -> kafka_broker.Broker:
    return kafka_broker.start(run_dir=run_dir, owner_pid=os.getpid(), timeout=180)


def unique(prefix: str) -> str:
    """A topic (or id) name no other test uses: the broker lives for the whole session."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def create_topics(bootstrap: str, *names: str, partitions: int = 1) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names])
    for future in futures.values():
        future.result(timeout=30)


def producer(bootstrap: str, **settings: Any) -> Producer:
    return Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, **settings})


def consume_all(bootstrap: str, topic: str, *, isolation: str = "read_committed", partitions: int = 1,
                timeout: float = 30.0) -> list[Any]:
    """Every message a consumer with this isolation level sees, from the start to the end of each partition.

    Reads until each partition reports its end (for read_committed that is the
    last stable offset), so the answer is complete, not whatever came in time.
    """
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": unique("reader"),
        "isolation.level": isolation,
        "enable.partition.eof": True,
        "enable.auto.commit": False,
    })
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        messages, ended = [], set()
        deadline = time.monotonic() + timeout
        while len(ended) < partitions:
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: only {len(ended)} of {partitions} partitions ended within {timeout} s")
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    ended.add(message.partition())
                    continue
                raise AssertionError(f"{topic}: {message.error()}")
            messages.append(message)
        return messages
    finally:
        consumer.close()
