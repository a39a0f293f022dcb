"""A real single-node Apache Kafka broker (KRaft mode) on 127.0.0.1 for tests, CI and local runs.

Standard library only, so `scripts/kafka` runs with any Python 3.10+ (no venv):

    scripts/kafka fetch            # the broker's jars into the cache (once; a stamp makes reruns instant)
    scripts/kafka start [--port N] # format fresh KRaft storage, start, wait until it answers, print bootstrap
    scripts/kafka status           # running? where?
    scripts/kafka stop             # stop it and delete its data

The broker is `org.apache.kafka:kafka_2.13` with its runtime dependencies, from
Maven Central, pinned jar by jar with SHA-256 (the list below was resolved once
with `mvn dependency:copy-dependencies -DincludeScope=runtime`; see
docs/research/kafka.md). One Java 17 process runs both roles (broker and
controller); its storage is formatted fresh by every `start`.

Where jars come from, in order: `FEATURESQL_MAVEN_REPO`, the mirrors in
`~/.m2/settings.xml`, Maven Central. Where they go: `FEATURESQL_KAFKA_CACHE`
(else `~/.cache/featuresql/kafka`), in a folder per Kafka version. Where a
running broker keeps its state file, data and log: `--run-dir`, else
`FEATURESQL_KAFKA_RUN`, else `$TMPDIR/featuresql-kafka-<uid>`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

KAFKA_VERSION = "4.2.1"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
HOST = "127.0.0.1"

#: (group:artifact:version, sha256, bytes): kafka_2.13 4.2.1 and its runtime
#: dependencies, plus log4j-slf4j-impl so the broker's slf4j logging reaches
#: log4j2 (kafka_2.13's POM names no slf4j binding; without one it logs nothing).
JARS: tuple[tuple[str, str, int], ...] = (
    ("at.yawk.lz4:lz4-java:1.10.1", "a58a84c4271e50df4c96ed916ccb7e48a869f8ed9cdcda1ad5d3d4c33b0214a3", 910232),
    ("com.dynatrace.hash4j:hash4j:0.22.0", "23028a3fd006e530bf495f551083208187cafd8f80624d048eba56442f16a50e", 316573),
    ("com.fasterxml.jackson.core:jackson-annotations:2.21", "53ca085f4a150f703f49e1aabd935bd03b43e1ea3d55d135438292af22cef56b", 82104),
    ("com.fasterxml.jackson.core:jackson-core:2.21.2", "12e8655b100267b44d0f14d01b1f5082a5105e616174dc4307be1a761e92407b", 595531),
    ("com.fasterxml.jackson.core:jackson-databind:2.21.2", "8c982f01f148d805f0aaac2339011244757e0df7c6ff8951f2fa3f433b8ed849", 1701926),
    ("com.fasterxml.jackson.dataformat:jackson-dataformat-csv:2.21.2", "682f8c7977e02a42748426bf54946e32e52e2f80b84b6642801ab12bd541368a", 107830),
    ("com.fasterxml.jackson.dataformat:jackson-dataformat-yaml:2.21.2", "d25551812fa0c14f37cabaa9401e63eadcea42ce36311183af5622d5bc8a1bc7", 60604),
    ("com.fasterxml.jackson.datatype:jackson-datatype-jdk8:2.21.2", "e581bbf3fc5622d16b57366dd41e10fc56921fb202879de2ef487f87dd9b30e7", 36037),
    ("com.github.ben-manes.caffeine:caffeine:3.2.0", "ec411dfdf0c03f25218648ce89861630b71680e5858a9a7278ebac8e55cab3d7", 906581),
    ("com.github.luben:zstd-jni:1.5.6-10", "b6c3237e24b8252a5a9c3a0e1ae30ef8f323412e74bd358548b7a9e527d676df", 7305999),
    ("com.google.re2j:re2j:1.8", "7b52c72156dd7f98b3237a5b35c1d34fba381b21048c89208913ad80a45dfbd7", 114335),
    ("com.typesafe.scala-logging:scala-logging_2.13:3.9.6", "0ad0c3f4d89d538b3b6c300158555e266aa69cf1b5f6522aba8b5bad238eb994", 61614),
    ("com.yammer.metrics:metrics-core:2.2.0", "6b7a14a6f34c10f8683f7b5e2f39df0f07b58c7dff0e468ebbc713905c46979c", 82123),
    ("commons-beanutils:commons-beanutils:1.11.0", "9e44ba68ec9a3f21286fa2a8bbb003b735c0f69101bb43144b79f4f8aaa74709", 246806),
    ("commons-collections:commons-collections:3.2.2", "eeeae917917144a68a741d4c0dff66aa5c5c5fd85593ff217bced3fc8ca783b8", 588337),
    ("commons-digester:commons-digester:2.1", "e0b2b980a84fc6533c5ce291f1917b32c507f62bcad64198fff44368c2196a3d", 196768),
    ("commons-logging:commons-logging:1.3.5", "6d7a744e4027649fbb50895df9497d109f98c766a637062fe8d2eabbb3140ba4", 73737),
    ("commons-validator:commons-validator:1.10.1", "ed74711a78d793ca37f6075e4a1e93d107233dfd20d0bb17e32bad88d38e56aa", 203132),
    ("net.sf.jopt-simple:jopt-simple:5.0.4", "df26cc58f235f477db07f753ba5a3ab243ebe5789d9f89ecf68dd62ea9a66c28", 78146),
    ("net.sourceforge.argparse4j:argparse4j:0.7.0", "65ceb669d88f63306c680f8088bbf765bbca72d288a61a03703000076c3d3f56", 90347),
    ("org.apache.kafka:kafka-clients:4.2.1", "6a281026416938a53c105f2d91d2807fdc83d5658452abf0ad1b6d8ab8a553c8", 10119979),
    ("org.apache.kafka:kafka-coordinator-common:4.2.1", "83399c9d26875d78997032c1cde2a2073db354dbf44a93243cc942a206fb9492", 118623),
    ("org.apache.kafka:kafka-group-coordinator:4.2.1", "1ec06bf318eeea2e176d839873f34c7db7dddd174010c305de4dcfef89908d86", 964547),
    ("org.apache.kafka:kafka-group-coordinator-api:4.2.1", "0b85f8c4857f5cdc0159a17e2679f24e4ad6fa75160a4f81fe7f601d45d493dd", 11807),
    ("org.apache.kafka:kafka-metadata:4.2.1", "001b4a66383023992990d26fc7e53d0dfa7ccda3f51c79e2c32c75f4d1fe13a8", 857910),
    ("org.apache.kafka:kafka-raft:4.2.1", "4391c2f7d5c1a6a8139ed7eda67ea1ce8b39a727f5bf0372c3dd81cc4a2dbf52", 310992),
    ("org.apache.kafka:kafka-server:4.2.1", "a24df46f801ea880af31b4dbd278ac00c7723a5260cfcdb39b3f11cf10f233a1", 271307),
    ("org.apache.kafka:kafka-server-common:4.2.1", "8c10d0ca99fe4585797814dfea4ee43a4cf6bb38a847f7bdcb738527ee9d24bb", 384009),
    ("org.apache.kafka:kafka-share-coordinator:4.2.1", "7401ab67a77e1743c5c3c1ed2d4d0f97f9ea9de96e6ff47ce11c0d75ced54cc0", 113625),
    ("org.apache.kafka:kafka-storage:4.2.1", "c12d9f25f08260a329eb40615ffbc92e892314838b798e1d4d19f28341a1076d", 604828),
    ("org.apache.kafka:kafka-storage-api:4.2.1", "5b7ec3b876ba3c1347e589bcf07b61b04f4226a69c39fac90735d0f152859edc", 28390),
    ("org.apache.kafka:kafka-tools-api:4.2.1", "ecb0e8d68bfd3750695bf303021206e951ccde4f1efbd6910def4c86f3bae2f0", 9072),
    ("org.apache.kafka:kafka-transaction-coordinator:4.2.1", "b2d957c7919519d6330c38e8c8e573864ef1afdfee30f60aa53ad89d50d3ac1b", 60076),
    ("org.apache.kafka:kafka_2.13:4.2.1", "1feebfe64c4077641aa915e8d77b6a1ae702dcbee80a88d0c3d5a4077b49fa0b", 1932885),
    ("org.apache.logging.log4j:log4j-api:2.25.4", "c4b642a7f047275215de117e0e3847eb2c7711d84a0aa7433e7b3c096daf341d", 351127),
    ("org.apache.logging.log4j:log4j-core:2.25.4", "10fee2c0485d54fa44ee75d314f6295508f7b932281873db61a91b88073200e6", 2023860),
    ("org.apache.logging.log4j:log4j-slf4j-impl:2.25.4", "7ac68a0afcc83d54f48d116d79370a43f0a2a6b71b5c1d6dda943bb6a95ddbaa", 25388),
    ("org.bitbucket.b_c:jose4j:0.9.6", "7314af50cde9c99e8eaf43eee617a23edcc6bb43036221064355094999d837ef", 299502),
    ("org.hdrhistogram:HdrHistogram:2.2.2", "22d1d4316c4ec13a68b559e98c8256d69071593731da96136640f864fa14fad8", 177206),
    ("org.jspecify:jspecify:1.0.0", "1fad6e6be7557781e4d33729d49ae1cdc8fdda6fe477bb0cc68ce351eafdfbab", 3819),
    ("org.pcollections:pcollections:4.0.2", "2bbeef5797a241300c4f7513cd546239629ed7deda4fc0c31df90bb95f5f13ef", 73718),
    ("org.scala-lang:scala-library:2.13.17", "b7822c4225243215f185925724a6edff92cf18777a136cc738276c4446fac76c", 5940636),
    ("org.scala-lang:scala-reflect:2.13.17", "734533897bcfabe7a6e7fa09dbee165b257b0396e14e8a57c75111db8e04bb98", 3816847),
    ("org.slf4j:slf4j-api:1.7.36", "d3ef575e3e4979678dc01bf1dcce51021493b4d11fb7f1be8ad982877c16a1c0", 41125),
    ("org.xerial.snappy:snappy-java:1.1.10.7", "4c766cb3f855415ee734b2392949a0b6f12a60879334a74518deaf6270d32e36", 2338496),
    ("org.yaml:snakeyaml:2.5", "e6682acf1ace77508ef13649cbf4f8d09d2cf5457bdb61d25ffb6ac0233d78dd", 340015),
)

LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
"""

# A short-lived JVM (the storage formatter) starts faster without the optimising JIT.
_QUICK_JVM = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]
_BROKER_JVM = ["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]


class KafkaError(Exception):
    """Something the user can act on; the message says what."""


# ---------------------------------------------------------------- fetch


def cache_root() -> Path:
    configured = os.environ.get("FEATURESQL_KAFKA_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "featuresql" / "kafka"


def jar_dir(version: str = KAFKA_VERSION) -> Path:
    return cache_root() / version


def repositories() -> list[str]:
    """Repositories to try, mirrors first (the same order as featuresql.connectors)."""
    found: list[str] = []
    if os.environ.get("FEATURESQL_MAVEN_REPO"):
        found.append(os.environ["FEATURESQL_MAVEN_REPO"].rstrip("/"))
    settings = Path.home() / ".m2" / "settings.xml"
    if settings.is_file():
        try:
            root = ElementTree.parse(settings).getroot()
        except ElementTree.ParseError:
            root = None
        if root is not None:
            for element in root.iter():
                if element.tag.endswith("mirror"):
                    url = next((c.text for c in element if c.tag.endswith("url") and c.text), None)
                    if url:
                        found.append(url.strip().rstrip("/"))
    found.append(MAVEN_CENTRAL)
    return list(dict.fromkeys(found))


def _filename(coordinates: str) -> str:
    _, artifact, version = coordinates.split(":")
    return f"{artifact}-{version}.jar"


def _repository_path(coordinates: str) -> str:
    group, artifact, version = coordinates.split(":")
    return f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_text() -> str:
    return hashlib.sha256(json.dumps(JARS).encode()).hexdigest()


def _stamp(directory: Path) -> Path:
    return directory / ".complete"


def is_fetched() -> bool:
    """The stamp matches the pinned list and every jar is there at its size (checksums were checked on download)."""
    directory = jar_dir()
    stamp = _stamp(directory)
    if not (stamp.is_file() and stamp.read_text().strip() == _stamp_text()):
        return False
    for coordinates, _, size in JARS:
        path = directory / _filename(coordinates)
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def _download(coordinates: str, sha256: str, target: Path) -> None:
    errors = []
    for repository in repositories():
        url = f"{repository}/{_repository_path(coordinates)}"
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
                while block := response.read(1 << 20):
                    out.write(block)
            actual = _sha256(partial)
            if actual != sha256:
                errors.append(f"{url}: checksum {actual} is not the pinned {sha256}")
                continue
            partial.replace(target)  # atomic: the cache never holds half a jar
            return
        except (OSError, ValueError, http.client.HTTPException) as err:
            errors.append(f"{url}: {err}")
        finally:
            partial.unlink(missing_ok=True)
    raise KafkaError(
        f"could not fetch {coordinates}:\n  " + "\n  ".join(errors)
        + "\nSet FEATURESQL_MAVEN_REPO to a Maven mirror, or put the jar in " + str(target.parent)
    )


def fetch(log: Callable[[str], None] | None = None) -> Path:
    """The folder holding every broker jar, downloading and verifying what is missing first."""
    directory = jar_dir()
    if is_fetched():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    missing = [
        (coordinates, sha256)
        for coordinates, sha256, size in JARS
        if not ((directory / _filename(coordinates)).is_file()
                and (directory / _filename(coordinates)).stat().st_size == size
                and _sha256(directory / _filename(coordinates)) == sha256)
    ]
    if missing and log:
        total = sum(size for c, _, size in JARS if c in dict(missing))
        log(f"fetching {len(missing)} jars ({total / 1e6:.1f} MB) for Kafka {KAFKA_VERSION} into {directory}")
    with ThreadPoolExecutor(max_workers=6) as pool:
        for future in [pool.submit(_download, c, s, directory / _filename(c)) for c, s in missing]:
            future.result()
    # Jars of other pins must not join the classpath ('dir/*' takes every jar).
    pinned = {_filename(c) for c, _, _ in JARS}
    for stray in directory.glob("*.jar"):
        if stray.name not in pinned:
            stray.unlink()
    _stamp(directory).write_text(_stamp_text() + "\n")
    return directory


# ---------------------------------------------------------------- run


def run_root() -> Path:
    configured = os.environ.get("FEATURESQL_KAFKA_RUN")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"featuresql-kafka-{os.getuid()}"


@dataclass
class Broker:
    """A broker started by `start`, as its state file records it."""

    pid: int
    port: int
    controller_port: int
    run_dir: str
    log: str
    cluster_id: str
    version: str
    started_at: float
    watchdog_pid: int | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"


def _state_file(run_dir: Path) -> Path:
    return run_dir / "state.json"


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return str(Path(home, "bin", "java"))
    found = shutil.which("java")
    if not found:
        raise KafkaError("the Kafka broker needs Java 17 or newer: install it (Debian: apt-get install "
                         "openjdk-17-jre-headless) or set JAVA_HOME")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:  # reap it first if it is our own child: a zombie still answers kill(pid, 0)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_broker(pid: int) -> bool:
    """The pid is alive and still our broker (not a recycled pid)."""
    if not _alive(pid):
        return False
    try:
        return b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the state file


def _tail(path: Path, lines: int = 25) -> str:
    """The log's first ERROR lines (the cause; the end is mostly shutdown noise) and its last lines."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    errors = [line for line in text[:-lines] if " ERROR " in line or line.startswith("Caused by:")][:8]
    return "\n".join([*errors, "..."] if errors else []) + ("\n" if errors else "") + "\n".join(text[-lines:])


def status(run_dir: Path | None = None) -> Broker | None:
    """The broker running under run_dir, or None."""
    state = _state_file(run_dir or run_root())
    try:
        broker = Broker(**json.loads(state.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return broker if _is_broker(broker.pid) else None


def _server_properties(port: int, controller_port: int, data: Path) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data),
        "num.partitions": "1",
        # One node: every internal topic has one replica.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Consumers of a fresh group start at once, not after 3 s.
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        # Few threads: the machine is small and shared.
        "num.network.threads": "2",
        "num.io.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "log.flush.interval.messages": "9223372036854775807",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _metadata_brokers(port: int, timeout: float = 2.0) -> list[tuple[int, str, int]]:
    """Ask the broker for cluster metadata (Metadata v4 over the wire) and return its brokers.

    Kafka 4 refuses Metadata v0-v3; v4 is the oldest it serves and needs no
    flexible-version encoding. Raises OSError until the broker serves requests.
    """
    client = b"featuresql"
    header = struct.pack(">hhih", 3, 4, 1, len(client)) + client
    body = struct.pack(">ib", -1, 0)  # all topics (null array), no auto-creation
    request = header + body
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", _read(sock, 4))[0]
        payload = _read(sock, size)
    correlation, _throttle, count = struct.unpack_from(">iii", payload, 0)
    if correlation != 1:
        raise OSError("unexpected metadata response")
    offset, brokers = 12, []
    for _ in range(count):
        node, length = struct.unpack_from(">ih", payload, offset)
        offset += 6
        host = payload[offset:offset + length].decode()
        offset += length
        (broker_port, rack_length) = struct.unpack_from(">ih", payload, offset)
        offset += 6 + max(rack_length, 0)
        brokers.append((node, host, broker_port))
    return brokers


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed by the broker")
        data += chunk
    return data


_WATCHDOG = """
import os, signal, sys, time, shutil
owner, broker, run_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
while alive(owner) and alive(broker):
    time.sleep(1)
if alive(broker):
    os.kill(broker, signal.SIGTERM)
    for _ in range(150):
        time.sleep(0.2)
        if not alive(broker):
            break
    else:
        os.kill(broker, signal.SIGKILL)
    shutil.rmtree(run_dir, ignore_errors=True)
"""


def start(port: int | None = None, run_dir: Path | None = None, timeout: float = 120.0,
          owner_pid: int | None = None, log: Callable[[str], None] | None = None) -> Broker:
    """Start a broker with fresh storage and return once it serves metadata requests.

    owner_pid: stop the broker when that process ends (a watchdog checks every
    second), so a killed test session leaves no broker behind.
    """
    run_dir = Path(run_dir or run_root())
    running = status(run_dir)
    if running:
        raise KafkaError(f"a broker is already running at {running.bootstrap} (pid {running.pid}, {run_dir}); "
                         "stop it first")
    java = _java()
    if port:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError as err:
                raise KafkaError(f"port {port} on {HOST} is not free ({err.strerror}); choose another or omit --port")
    jars = fetch(log)
    classpath = str(jars / "*")
    if run_dir.exists():
        shutil.rmtree(run_dir)
    data = run_dir / "data"
    data.mkdir(parents=True)
    port = port or _free_port()
    controller_port = _free_port()
    while controller_port == port:
        controller_port = _free_port()
    properties = run_dir / "server.properties"
    properties.write_text(_server_properties(port, controller_port, data))
    log4j = run_dir / "log4j2.properties"
    log4j.write_text(LOG4J2)
    log_file = run_dir / "broker.log"
    cluster_id = _cluster_id()
    common = [f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath]
    began = time.monotonic()
    with log_file.open("ab") as out:
        formatted = subprocess.run(
            [java, *_QUICK_JVM, *common, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout,
        )
    if formatted.returncode != 0:
        raise KafkaError(f"formatting Kafka storage failed (exit {formatted.returncode}); {log_file}:\n{_tail(log_file)}")
    with log_file.open("ab") as out:
        process = subprocess.Popen(
            [java, *_BROKER_JVM, *common, "kafka.Kafka", str(properties)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the shell that started it does not reach it
        )
    watchdog = None
    if owner_pid:
        watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(owner_pid), str(process.pid), str(run_dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ).pid
    broker = Broker(pid=process.pid, port=port, controller_port=controller_port, run_dir=str(run_dir),
                    log=str(log_file), cluster_id=cluster_id, version=KAFKA_VERSION, started_at=time.time(),
                    watchdog_pid=watchdog)
    _state_file(run_dir).write_text(json.dumps(asdict(broker), indent=2) + "\n")
    deadline = began + timeout
    while True:
        if process.poll() is not None:
            tail = _tail(log_file)
            stop(run_dir, keep=True)
            raise KafkaError(f"the Kafka broker exited with code {process.returncode} while starting; {log_file}:\n{tail}")
        try:
            if any(p == port for _, _, p in _metadata_brokers(port)):
                return broker
        except (OSError, struct.error):
            pass
        if time.monotonic() > deadline:
            tail = _tail(log_file)
            stop(run_dir, keep=True)
            raise KafkaError(f"the Kafka broker did not answer on {HOST}:{port} within {timeout:.0f} s; "
                             f"{log_file}:\n{tail}")
        time.sleep(0.2)


def stop(run_dir: Path | None = None, keep: bool = False, grace: float = 30.0) -> bool:
    """Stop the broker under run_dir (SIGTERM, then SIGKILL after `grace` s) and delete its folder.

    keep: leave the folder (log and data) for a post-mortem. Returns whether a
    broker was running.
    """
    run_dir = Path(run_dir or run_root())
    state = _state_file(run_dir)
    try:
        broker = Broker(**json.loads(state.read_text()))
    except (OSError, ValueError, TypeError):
        broker = None
    was_running = False
    if broker and broker.watchdog_pid and _alive(broker.watchdog_pid):
        try:
            os.kill(broker.watchdog_pid, signal.SIGKILL)
            _alive(broker.watchdog_pid)  # reap
        except ProcessLookupError:
            pass
    if broker and _is_broker(broker.pid):
        was_running = True
        os.kill(broker.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _alive(broker.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(broker.pid):
            os.kill(broker.pid, signal.SIGKILL)
            while _alive(broker.pid):
                time.sleep(0.05)
    if keep:
        state.unlink(missing_ok=True)
    elif run_dir.exists():
        shutil.rmtree(run_dir, ignore_errors=True)
    return was_running


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kafka", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=None,
                        help="where the state file, data and log live (default: $FEATURESQL_KAFKA_RUN or "
                             f"{run_root()})")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help=f"download Kafka {KAFKA_VERSION}'s jars into the cache (idempotent)")
    start_parser = commands.add_parser("start", help="start a broker with fresh storage; prints the bootstrap address")
    start_parser.add_argument("--port", type=int, default=None, help="client port (default: a free one)")
    start_parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for it to answer")
    stop_parser = commands.add_parser("stop", help="stop the broker and delete its data")
    stop_parser.add_argument("--keep", action="store_true", help="keep the data and log")
    commands.add_parser("status", help="exit 0 and print the bootstrap address if a broker runs, else exit 1")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        if args.command == "fetch":
            began = time.monotonic()
            fresh = not is_fetched()
            directory = fetch(say)
            say(f"Kafka {KAFKA_VERSION}: {len(JARS)} jars in {directory} "
                f"({'fetched' if fresh else 'already cached'}, {time.monotonic() - began:.1f} s)")
        elif args.command == "start":
            began = time.monotonic()
            broker = start(port=args.port, run_dir=args.run_dir, timeout=args.timeout, log=say)
            say(f"Kafka {broker.version} (KRaft, pid {broker.pid}) ready in {time.monotonic() - began:.1f} s; "
                f"log {broker.log}")
            print(broker.bootstrap)
        elif args.command == "stop":
            run_dir = args.run_dir or run_root()
            say("stopped" if stop(run_dir, keep=args.keep) else f"no broker was running under {run_dir}")
        elif args.command == "status":
            broker = status(args.run_dir)
            if broker is None:
                say("not running")
                return 1
            say(f"running: Kafka {broker.version}, pid {broker.pid}, up {time.time() - broker.started_at:.0f} s, "
                f"log {broker.log}")
            print(broker.bootstrap)
    except KafkaError as err:
        say(f"error: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
