"""Workload 4: freshness, Kafka -> `featuresql stream` -> upsert-kafka, at a steady event rate.

One run per setting (`SETTINGS`), each with its own processes on the real local
broker (featuresql/kafka_broker.py, fresh storage, stopped at the end):

* `featuresql stream bench_user --kafka-topic OUT` reads the bench feature's
  impressions from a Kafka topic (a copy of the bench project whose catalog
  binds it to Kafka, with the setting's watermark delay) and writes the update
  log to an upsert-kafka topic, exactly once (transactions committed at
  checkpoints, at the setting's interval).
* A producer (`python -m bench.freshness produce`) sends JSON impressions whose
  event_time is the wall clock when the event is handed to the producer: a
  trickle until the first output is seen (the job has started), `RAMP_SECONDS`
  at the full rate (not measured), the measured `seconds`, then a tail that
  moves the watermark past the last measured event (not measured).
* Two consumers of the output topic, read_committed (what a reader of an
  exactly-once topic sees) and read_uncommitted (the rows as Flink writes them,
  before their transaction commits), record when each update row arrives.

Latency of an event = the first arrival of the output row with its user and
event_time, minus its event_time (its send time): every measured event counts,
and events without an output row by the end are reported as missing. All
processes share one clock (one machine).
"""

from __future__ import annotations

import calendar
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FEATURE = "bench_user"
USERS = 10_000
RAMP_SECONDS = 10.0
TRICKLE_RATE = 100
#: Kafka timestamps and event times in ms fit 41 bits until 2039; the user number sits above them.
_USER_SHIFT = 41


@dataclass(frozen=True)
class Setting:
    """One freshness run: the catalog's watermark delay and the checkpoint interval."""

    name: str
    watermark_delay_s: float
    checkpoint: str
    what: str
    rate: int | None = None  # events/s, when not the run's rate


SETTINGS = [
    Setting("wm5s_ckpt10s", 5.0, "10 s", "as shipped: the catalog's 5 s watermark delay, `stream`'s default 10 s checkpoints"),
    # Not 0: with no delay, a second event in the same millisecond as the watermark is late.
    Setting("wm50ms_ckpt1s", 0.05, "1 s", "bench catalog copy: 50 ms watermark delay, 1 s checkpoints"),
    Setting("wm50ms_ckpt1s_1k", 0.05, "1 s", "the same at 1,000 events/s: what the settings cost when the job keeps up",
            rate=1_000),
]


def pick(names: str) -> list[Setting]:
    """The settings named in a comma-separated list, in SETTINGS order; all of them for ''."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = sorted(set(wanted) - {setting.name for setting in SETTINGS})
    if unknown:
        raise SystemExit(f"unknown freshness setting(s) {unknown}: pick from {', '.join(s.name for s in SETTINGS)}")
    return [setting for setting in SETTINGS if not wanted or setting.name in wanted]


def _key(user: int, millis: int) -> int:
    return (user << _USER_SHIFT) | millis


def _millis(keys: Any) -> Any:
    """The event times (ms) of keys made by `_key`."""
    return keys & ((1 << _USER_SHIFT) - 1)


# -- the producer and consumer processes ---------------------------------------------------


def produce(bootstrap: str, topic: str, rate: int, seconds: float, tail: float, go: Path, out: Path) -> None:
    """Send impressions at `rate`/s (TRICKLE_RATE until `go` exists); write what was sent to `out`."""
    import numpy as np
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all",
                         "enable.idempotence": True, "queue.buffering.max.messages": 1_000_000})
    rng = random.Random(7)
    measured: list[int] = []
    sent = {"trickle": 0, "ramp": 0, "measured": 0, "tail": 0}
    phase, phase_began = "trickle", time.time()
    window: tuple[int, int] = (0, 0)
    n = 0
    tick = 0.01
    next_tick = time.monotonic()
    while True:
        now = time.time()
        if phase == "trickle" and go.exists():
            phase, phase_began = "ramp", now
            next_tick = time.monotonic()  # no burst to make up for a starved trickle
        elif phase == "ramp" and now - phase_began >= RAMP_SECONDS:
            phase, phase_began = "measured", now
            measured_began = now
        elif phase == "measured" and now - phase_began >= seconds:
            phase, phase_began = "tail", now
            window = (int(measured_began * 1000), int(now * 1000))
        elif phase == "tail" and now - phase_began >= tail:
            break
        per_tick = (TRICKLE_RATE if phase == "trickle" else rate) * tick
        # Whole events per tick, the remainder carried by chance: the mean rate is exact.
        count = int(per_tick) + (1 if rng.random() < per_tick - int(per_tick) else 0)
        for _ in range(count):
            millis = int(time.time() * 1000)
            user = rng.randrange(1, USERS + 1)
            n += 1
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(millis / 1000)) + f".{millis % 1000:03d}"
            value = (f'{{"impression_id":"b{n}","user_id":"u{user}","post_id":"p{rng.randrange(1, 50_000)}",'
                     f'"author_id":"a{rng.randrange(1, 5_000)}","position":{rng.randrange(1, 21)},"event_time":"{stamp}"}}')
            while True:
                try:
                    producer.produce(topic, value.encode())
                    break
                except BufferError:
                    producer.poll(0.01)
            sent[phase] += 1
            if phase == "measured":
                measured.append(_key(user, millis))
        producer.poll(0)
        # Behind by more than a second (the machine is busy): drop the backlog, no bursts.
        next_tick = max(next_tick + tick, time.monotonic() - 1.0)
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    producer.flush(60)
    np.save(out.with_suffix(".npy"), np.asarray(measured, dtype=np.int64))
    out.write_text(json.dumps({"sent": sent, "window_ms": window, "seconds": (window[1] - window[0]) / 1000}))


def consume(bootstrap: str, topic: str, isolation: str, seen: Path, stop: Path, out: Path) -> None:
    """Record (user/event-time key, Kafka timestamp, arrival) of every output row until `stop` exists."""
    import numpy as np
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{isolation}-{os.getpid()}",
                         "isolation.level": isolation, "enable.auto.commit": False, "fetch.wait.max.ms": 10})
    consumer.assign([TopicPartition(topic, 0, 0)])
    keys: list[int] = []
    kafka_ts: list[int] = []
    arrived: list[int] = []
    marker = b'"event_time":"'
    while not stop.exists():
        batch = consumer.consume(1000, 0.05)
        now = int(time.time() * 1000)
        for message in batch:
            if message.error() or message.value() is None:
                continue
            key, value = message.key(), message.value()
            start = key.index(b':"u') + 3
            user = int(key[start: key.index(b'"', start)])
            at = value.index(marker) + len(marker)
            text = value[at: value.index(b'"', at)].decode()  # Flink drops trailing zeros: .72, not .720
            fraction = (text[20:] + "000")[:3]
            millis = calendar.timegm(time.strptime(text[:19], "%Y-%m-%d %H:%M:%S")) * 1000 + int(fraction)
            keys.append(_key(user, millis))
            kafka_ts.append(message.timestamp()[1])
            arrived.append(now)
        if batch and not seen.exists():
            seen.touch()
    consumer.close()
    np.savez(out, keys=np.asarray(keys, dtype=np.int64), kafka_ts=np.asarray(kafka_ts, dtype=np.int64),
             arrived=np.asarray(arrived, dtype=np.int64))


# -- the driver --------------------------------------------------------------------------------


def _project(folder: Path, data: Path, topic: str, bootstrap: str, delay_s: float) -> Path:
    """A copy of the bench project whose impressions catalog is bound to `topic`, with `delay_s`."""
    from bench.data import PROJECT_TEMPLATE

    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(PROJECT_TEMPLATE, folder)
    (folder / "data").symlink_to(data)  # `stream` checks the batch files exist; Kafka is what it reads
    catalog = folder / "catalogs" / "impressions.sql"
    text = catalog.read_text()
    millis = int(delay_s * 1000)
    text = text.replace("event_time - INTERVAL '5' SECOND",
                        f"event_time - INTERVAL '{millis}' MILLISECOND" if millis else "event_time")
    text = text.replace(
        "'format' = 'parquet');",
        f"'format' = 'parquet',\n  'stream.connector' = 'kafka', 'stream.topic' = '{topic}', 'stream.format' = 'json',\n"
        f"  'stream.bootstrap' = '{bootstrap}'\n);",
    )
    catalog.write_text(text)
    return folder


def _create_topics(bootstrap: str, *names: str) -> None:
    """One partition each: one partition keeps the send order, so event time never goes back."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the futures resolve
    futures = admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1) for name in names])
    for future in futures.values():
        future.result(timeout=30)


def _percentiles(values: Any) -> dict[str, float | None]:
    import numpy as np

    if len(values) == 0:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    found = np.percentile(values, [50, 90, 99, 100]) / 1000
    return {"p50": float(found[0]), "p90": float(found[1]), "p99": float(found[2]), "max": float(found[3])}


def _latencies(sent: Any, received: Any, times: str) -> tuple[Any, int]:
    """Per measured event: first arrival (or Kafka timestamp) of its row minus its send time; and the missing count."""
    import numpy as np

    keys, at = received["keys"], received[times]
    if len(keys) == 0:
        return np.asarray([]), len(sent)
    order = np.lexsort((at, keys))
    keys, at = keys[order], at[order]
    first = np.r_[True, keys[1:] != keys[:-1]]
    keys, at = keys[first], at[first]
    index = np.clip(np.searchsorted(keys, sent), 0, len(keys) - 1)
    found = keys[index] == sent
    latency = at[index[found]] - _millis(sent[found])
    return latency, int((~found).sum())


def _settled(sent: Any, latency_by_event: Any, window: tuple[int, int]) -> Any:
    """Latencies (ms) of the events sent after the first fifth of the measured window that got a row."""
    times = _millis(sent)
    picked = latency_by_event[times >= window[0] + (window[1] - window[0]) / 5]
    return picked[picked >= 0]


def _trend(sent: Any, latency_by_event: Any, window: tuple[int, int]) -> list[float]:
    """p50 latency (s) per tenth of the measured window: flat if the job held the rate, rising if it fell behind."""
    import numpy as np

    times = _millis(sent)
    edges = np.linspace(window[0], window[1], 11)
    found = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        picked = latency_by_event[(times >= lo) & (times < hi)]
        picked = picked[picked >= 0]
        found.append(float(np.median(picked) / 1000) if len(picked) else float("nan"))
    return found


def _run_setting(setting: Setting, work: Path, data: Path, bootstrap: str, seconds: float, rate: int) -> dict[str, Any]:
    import numpy as np

    rate = setting.rate or rate
    folder = work / setting.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    topic_in, topic_out = f"fresh_in_{setting.name}_{os.getpid()}", f"fresh_out_{setting.name}_{os.getpid()}"
    _create_topics(bootstrap, topic_in, topic_out)
    project = _project(folder / "project", data, topic_in, bootstrap, setting.watermark_delay_s)
    python = sys.executable
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    logs = [open(folder / name, "w") for name in ("stream.out", "stream.err")]
    stream = subprocess.Popen(
        [python, "-m", "featuresql.cli", "stream", FEATURE, "--out", str(folder / "out"), "--checkpoint-interval",
         setting.checkpoint, "--kafka-topic", topic_out, "--project", str(project)],
        stdout=logs[0], stderr=logs[1], env=env, start_new_session=True,
    )
    go, stop = folder / "go", folder / "stop"
    consumers = {
        isolation: subprocess.Popen([python, "-m", "bench.freshness", "consume", bootstrap, topic_out, isolation,
                                     str(folder / f"seen_{isolation}"), str(stop), str(folder / f"{isolation}.npz")],
                                    env=env)
        for isolation in ("read_committed", "read_uncommitted")
    }
    tail = setting.watermark_delay_s + 5.0
    producer = subprocess.Popen([python, "-m", "bench.freshness", "produce", bootstrap, topic_in, str(rate), str(seconds),
                                 str(tail), str(go), str(folder / "sent.json")], env=env)
    began = time.monotonic()
    status: dict[str, Any] = {"setting": setting.name, "what": setting.what, "checkpoint": setting.checkpoint,
                              "watermark_delay_s": setting.watermark_delay_s, "rate": rate}
    try:
        while not (folder / "seen_read_committed").exists():
            if time.monotonic() - began > 300 or stream.poll() is not None:
                raise RuntimeError("the stream produced no committed output")
            time.sleep(0.5)
        status["first_output_after_s"] = time.monotonic() - began
        go.touch()
        producer.wait(timeout=RAMP_SECONDS + seconds + tail + 120)
        # Let the last transactions commit and arrive: two checkpoints and a margin.
        checkpoint_s = float(setting.checkpoint.split()[0])
        time.sleep(2 * checkpoint_s + 10)
    except Exception as err:  # noqa: BLE001 - reported, never hidden
        status["error"] = str(err)
    finally:
        stop.touch()
        for process in consumers.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        if producer.poll() is None:
            producer.kill()
        if stream.poll() is None:
            os.killpg(stream.pid, signal.SIGINT)
            try:
                stream.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(stream.pid, signal.SIGKILL)
        for log in logs:
            log.close()
    if "error" in status or not (folder / "sent.json").exists():
        status.setdefault("error", "the producer did not finish")
        status["stream_log"] = (folder / "stream.err").read_text()[-1500:]
        return status
    summary = json.loads((folder / "sent.json").read_text())
    sent = np.load(folder / "sent.npy")
    window = tuple(summary["window_ms"])
    status.update(sent=summary["sent"], measured_events=int(len(sent)),
                  sent_rate=len(sent) / summary["seconds"] if summary["seconds"] else None)
    for isolation in ("read_committed", "read_uncommitted"):
        received = dict(np.load(folder / f"{isolation}.npz"))
        latency, missing = _latencies(sent, received, "arrived")
        written, _ = _latencies(sent, received, "kafka_ts")
        full = np.full(len(sent), -1, dtype=np.int64)
        index_found = np.isin(sent, received["keys"])
        full[index_found] = latency
        status[isolation] = {
            "rows": int(len(received["keys"])),
            "missing": missing,
            "arrival": _percentiles(latency),
            "kafka_timestamp": _percentiles(written),
            "p50_by_tenth": _trend(sent, full, window),
            # The first fifth still drains what piled up while the JVM warmed up (see the trend).
            "arrival_after_first_fifth": _percentiles(_settled(sent, full, window)),
        }
    lines = [line for line in (folder / "stream.err").read_text().splitlines() if " events " in line]
    status["stream_status"] = lines[-1].strip() if lines else ""
    if lines:
        # How many of the events sent the job had read when it was stopped: below 1, it fell behind.
        read = int(lines[-1].split(" events ")[1].split()[0].replace(",", ""))
        status["stream_read_share"] = read / max(sum(summary["sent"].values()), 1)
    return status


def run(root: Path, seconds: float = 60.0, rate: int = 10_000, settings: list[Setting] | None = None) -> dict[str, Any]:
    """Every setting in turn on one fresh broker; the numbers per setting."""
    from featuresql import kafka_broker

    work = root / "freshness"
    broker_dir = work / "broker"
    broker = kafka_broker.start(run_dir=broker_dir, owner_pid=os.getpid(), timeout=180)
    load = []
    results = []
    try:
        for setting in settings or SETTINGS:
            print(f"[bench] freshness {setting.name}: {setting.what}", flush=True)
            load.append(os.getloadavg()[0])
            results.append(_run_setting(setting, work, (root / "data").resolve(), broker.bootstrap, seconds, rate))
            load.append(os.getloadavg()[0])
            found = results[-1].get("read_committed", {}).get("arrival", {})
            print(f"[bench] freshness {setting.name}: {results[-1].get('error') or found}", flush=True)
    finally:
        kafka_broker.stop(broker_dir)
    return {"seconds": seconds, "rate": rate, "users": USERS, "load_avg_1m": load, "settings": results,
            "kafka": kafka_broker.KAFKA_VERSION}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "produce":
        produce(args[0], args[1], int(args[2]), float(args[3]), float(args[4]), Path(args[5]), Path(args[6]))
    elif command == "consume":
        consume(args[0], args[1], args[2], Path(args[3]), Path(args[4]), Path(args[5]))
    else:
        raise SystemExit(f"unknown command {command}")
