"""Apache Kafka in KRaft mode on the JVM, from the Maven Central jars resolved by deploy/kafka/pom.xml."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from common.devstack import processes
from common.devstack.layout import TOPICS, Layout
from common.devstack.processes import StackError


def ensure_jars(layout: Layout) -> Path:
    """Resolve the broker's jars once into a cache outside the checkout; later starts reuse them."""
    libs = layout.kafka_libs
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven (mvn) is needed once to fetch the Kafka jars; install Java 17 and Maven")
    libs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(layout.root / "deploy/kafka/pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        check=True,
    )
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise StackError(f"Maven finished but no kafka_2.13 jar is in {libs}")
    marker.write_text("ok\n")
    return libs


def _write_config(layout: Layout) -> Path:
    template = (layout.root / "deploy/kafka/server.properties.in").read_text()
    data = layout.kafka_dir / "data"
    config = (
        template.replace("@LOG_DIRS@", str(data))
        .replace("@KAFKA_PORT@", str(layout.kafka_port))
        .replace("@CONTROLLER_PORT@", str(layout.controller_port))
        .replace("@PARTITIONS@", str(layout.partitions))
    )
    path = layout.kafka_dir / "server.properties"
    layout.kafka_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(config)
    return path


def _java(libs: Path, *args: str, jvm_opts: tuple[str, ...] = ()) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise StackError("Java 17 is needed to run the Kafka broker")
    return [java, *jvm_opts, "-cp", f"{libs}/*", *args]


def _format_storage(layout: Layout, libs: Path, config: Path) -> None:
    if (layout.kafka_dir / "data" / "meta.properties").exists():
        return
    cluster_id = (
        subprocess.run(
            _java(libs, "kafka.tools.StorageTool", "random-uuid"),
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    subprocess.run(
        _java(
            libs,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(config),
            "--ignore-formatted",
        ),
        check=True,
        capture_output=True,
        text=True,
    )


def pidfile(layout: Layout) -> Path:
    return layout.run / "kafka.pid"


def running(layout: Layout) -> bool:
    return processes.read_pid(pidfile(layout)) is not None and processes.port_open(layout.kafka_port)


def start(layout: Layout) -> bool:
    """Start the broker unless it already answers; True when this call started it."""
    if running(layout):
        return False
    if processes.port_open(layout.kafka_port):
        raise StackError(f"port {layout.kafka_port} is taken by a process this stack did not start")
    libs = ensure_jars(layout)
    config = _write_config(layout)
    _format_storage(layout, libs, config)
    log = layout.logs / "kafka.log"
    jvm_opts = (
        "-Xms384m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={layout.root / 'deploy/kafka/log4j2.properties'}",
        f"-Dkafka.logs.dir={layout.logs}",
    )
    cmd = _java(libs, "kafka.Kafka", str(config), jvm_opts=jvm_opts)
    processes.start(cmd, pidfile=pidfile(layout), logfile=log)
    processes.wait_until(lambda: processes.port_open(layout.kafka_port), timeout_s=90, what="Kafka", log=log)
    return True


def stop(layout: Layout) -> bool:
    return processes.stop(pidfile(layout), timeout_s=30)


async def _create_topics(layout: Layout) -> None:
    wanted = [*TOPICS, *(f"{t}.dlq" for t in TOPICS)]
    admin = AIOKafkaAdminClient(bootstrap_servers=layout.kafka_bootstrap, request_timeout_ms=15000)
    for _ in range(60):
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            await asyncio.sleep(1)
    else:
        raise StackError("could not reach Kafka to create topics")
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, layout.partitions, 1) for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


def create_topics(layout: Layout) -> None:
    asyncio.run(_create_topics(layout))
