"""The Kafka producer every service shares for its relay and dead letters."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer


def make_producer(bootstrap: str, *, client_id: str) -> AIOKafkaProducer:
    """Idempotent, acks=all, batched and compressed: aiokafka's defaults are weaker."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        compression_type="lz4",
        request_timeout_ms=15000,
        retry_backoff_ms=200,
    )
