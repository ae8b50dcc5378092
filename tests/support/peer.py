"""A separate process running the outbox relay or a consumer, so tests can kill it like a real service.

python -m tests.support.peer relay --db URL --bootstrap HOST:PORT [--faults outbox.after_publish]
python -m tests.support.peer consume --db URL --bootstrap HOST:PORT --topic T --group G [--faults ...]
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from common.db import make_engine, make_session_factory
from common.faults import CrashPoints
from common.logging import configure_logging
from common.messaging.consumer import ConsumerRunner
from common.messaging.producer import make_producer
from common.messaging.relay import OutboxRelay
from tests.support.roundtrip import sink_inbox, sink_router, source_outbox


async def main(args: argparse.Namespace) -> None:
    configure_logging(f"peer-{args.mode}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    engine = make_engine(args.db, pool_size=2, application_name=f"peer-{args.mode}")
    sessions = make_session_factory(engine)
    crash = CrashPoints(frozenset(f for f in args.faults.split(",") if f))
    try:
        if args.mode == "relay":
            producer = make_producer(args.bootstrap, client_id="peer-relay")
            await producer.start()
            try:
                relay = OutboxRelay(
                    sessions=sessions, outbox=source_outbox, producer=producer, crash_points=crash
                )
                await relay.run(stop)
            finally:
                await producer.stop()
        else:
            runner = ConsumerRunner(
                name=args.group,
                topics=[args.topic],
                router=sink_router(),
                sessions=sessions,
                inbox_table=sink_inbox,
                bootstrap=args.bootstrap,
                crash_points=crash,
            )
            await runner.run(stop)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["relay", "consume"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="")
    parser.add_argument("--group", default="rt-sink")
    parser.add_argument("--faults", default="")
    asyncio.run(main(parser.parse_args()))
