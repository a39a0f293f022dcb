"""The SQL of a stream's bad-record handling (docs/semantics.md section 4), without a JVM.

`tests/golden/compile/flink_stream/<name>.sql` holds the whole stream job of
the example project (Kafka-bound sources that parse JSON in SQL, `__reject`,
the dead-letter queries). Regenerate after an intended change with
FEATURESQL_UPDATE_GOLDEN=1, as tests/test_golden.py. The Flink behaviour the
SQL relies on is checked for real in tests/test_stream_dead_letter.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from featuresql import Project
from featuresql.catalog import max_future_ms
from featuresql.compile import flink as sql
from featuresql.compile import flink_rejects as rejects
from featuresql.engines import flink as engine
from featuresql.engines import run_range
from helpers import REPO_ROOT, copy_example_project
from test_golden import UPDATE

GOLDEN = Path(__file__).resolve().parent / "golden" / "compile" / "flink_stream"


def stream_job(project: Project, name: str) -> sql.FlinkJob:
    lower, upper = run_range("1970-01-01", "2100-01-01")
    return engine.compile_job(project.plan(name), project.root, lower, upper, monitor="1 s")


@pytest.mark.parametrize("name", ["user_engagement", "ctr"])
def test_stream_job_matches_golden(name: str) -> None:
    text = stream_job(Project(REPO_ROOT), name).text(sink="-- the sink")
    path = GOLDEN / f"{name}.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{path} differs; regenerate with FEATURESQL_UPDATE_GOLDEN=1 and review"


def test_kafka_source_parses_json_in_sql_and_names_the_reason() -> None:
    job = stream_job(Project(REPO_ROOT), "user_engagement")
    ddl, view = job.sources
    assert "'format' = 'raw'" in ddl and "'json." not in ddl
    assert "`__payload` STRING" in ddl
    for metadata in ("topic", "partition", "offset", "timestamp"):
        assert f"METADATA FROM '{metadata}' VIRTUAL" in ddl
    assert "`dwell_ms` AS TRY_CAST(JSON_VALUE(`__payload`, '$.dwell_ms' RETURNING STRING) AS BIGINT)" in ddl
    reasons = re.findall(r"THEN '([^']+)'\n", ddl.split("`__rowtime`")[0])
    assert reasons[:3] == ["empty message", "malformed JSON", "not a JSON object"]
    assert reasons[-3:] == ["NULL event time", "NULL key user_id", "event time too far in the future"]
    assert "missing field event_time" in reasons and "wrong type for dwell_ms: BIGINT" in reasons
    # The rowtime of a rejected record is the epoch: it never moves the watermark.
    assert re.search(r"`__rowtime` AS CASE WHEN CASE.*END IS NULL THEN .* ELSE TIMESTAMP '1970-01-01 00:00:00.000' END",
                     ddl, re.S)
    # One partition column: the arrivals view partitions its running maximum by it.
    assert ddl.count("`__partition`") == 1 and "`__arrival` AS PROCTIME()" in ddl
    # The arrivals view takes only good records, before its running maximum; the
    # queries read the view, the dead letter reads the source table for bad ones.
    assert view.startswith("CREATE TEMPORARY VIEW `src_engagements` AS")
    assert view.endswith("FROM `in_src_engagements`\nWHERE `__reject` IS NULL")
    text = job.text(sink="-- sink")
    assert text.count("FROM `in_src_engagements`") == 2 and text.count("FROM `src_engagements`") == 2
    assert re.findall(r"FROM `in_src_engagements`\nWHERE `__reject` IS (NOT )?NULL", text) == ["", "NOT "]
    assert "`__reject`" not in job.query + "".join(query for _, query in job.late)


def test_ctr_sets_each_table_aside_once_and_rejects_no_null_keys() -> None:
    job = stream_job(Project(REPO_ROOT), "ctr")
    # impressions is read as events (src_), as the spine and as label points: one dead letter, from its first source.
    assert [(table, source) for table, source, _ in job.rejected] == [
        ("engagements", "in_src_engagements"), ("impressions", "in_src_impressions")]
    # No key is needed by every reader (features by user, post, author; the spine keeps NULL-key rows).
    assert "NULL key" not in "".join(job.sources)
    text = job.text(sink="-- sink")
    # Every source table is read through its arrivals view, which keeps only good records.
    for source in [n for n in job.source_names if n.startswith("in_")]:
        assert f"FROM `{source}`\nWHERE `__reject` IS NULL" in text, source
        assert text.count(f"FROM `{source[3:]}`") >= 2, source  # query(s) and late rows


def test_reject_keys_are_the_keys_every_reader_needs() -> None:
    assert sql.reject_keys(Project(REPO_ROOT).tables["engagements"], [("user_id",), ("user_id", "author_id")]) == ("user_id",)
    assert sql.reject_keys(Project(REPO_ROOT).tables["engagements"], [("user_id",), ("post_id",)]) == ()
    assert sql.reject_keys(Project(REPO_ROOT).tables["impressions"], [(), ("user_id",)]) == ()


def _folder_project(tmp_path: Path, extra: str = "") -> Project:
    root = copy_example_project(tmp_path / "project")
    for catalog in (root / "catalogs").glob("*.sql"):
        text = re.sub(r",\s*(--[^\n]*\n\s*)?'stream\.[\w.]+'\s*=\s*'[^']*'", "", catalog.read_text())
        catalog.write_text(text.replace("'format' = 'parquet'", "'format' = 'parquet'" + extra))
    return Project(root)


def test_folder_source_is_typed_and_rejects_nulls_and_the_future_only(tmp_path: Path) -> None:
    job = stream_job(_folder_project(tmp_path, ", 'stream.max-future' = '6 h'"), "user_engagement")
    ddl, view = job.sources
    assert "`__partition`" not in ddl + view  # a folder's running maximum is over the whole table
    assert "'connector' = 'filesystem'" in ddl and "JSON_VALUE" not in ddl
    assert "METADATA FROM 'file.path' VIRTUAL" in ddl and "METADATA FROM 'file.modification-time' VIRTUAL" in ddl
    reasons = re.findall(r"THEN '([^']+)'\n", ddl.split("`__rowtime`")[0])
    assert reasons == ["NULL event time", "NULL key user_id", "event time too far in the future"]
    assert "INTERVAL '0 06:00:00.000' DAY TO SECOND(3)" in ddl
    (_, _, dead_letter) = job.rejected[0]
    assert "JSON_OBJECT('user_id' VALUE `user_id`" in dead_letter and "`__file` AS `file`" in dead_letter


def test_max_future_none_turns_the_check_off(tmp_path: Path) -> None:
    job = stream_job(_folder_project(tmp_path, ", 'stream.max-future' = 'none'"), "user_engagement")
    assert "too far in the future" not in job.sources[0]


@pytest.mark.parametrize("value, millis", [
    (None, 86_400_000), ("1 d", 86_400_000), ("6h", 21_600_000), ("30 min", 1_800_000), ("90 s", 90_000),
    ("none", None), ("NONE", None), ("soon", -1), ("1 week", -1), ("-1 d", -1),
])
def test_max_future_values(value: str | None, millis: int | None) -> None:
    assert max_future_ms(value) == millis


def test_a_bad_max_future_is_a_diagnostic(tmp_path: Path) -> None:
    project = _folder_project(tmp_path, ", 'stream.max-future' = 'a while'")
    problems = [(d.code, d.message) for d in project.validate()]
    # The value is not quoted back (a secret typed into the wrong option must not reach CI logs).
    assert len(problems) == 2 and all(code == "FS135" and "stream.max-future is not a duration" in message
                                      and "a while" not in message for code, message in problems), problems


def test_bounded_jobs_have_no_dead_letters() -> None:
    lower, upper = run_range("2026-01-10", "2026-01-12")
    job = engine.compile_job(Project(REPO_ROOT).plan("ctr"), REPO_ROOT, lower, upper)
    assert job.rejected == () and "__reject" not in job.text(sink="-- sink")
    assert rejects.REASONS[0] == "empty message"


def test_compile_flink_stream_masks_credentials_and_needs_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_example_project(tmp_path / "project")
    catalog = root / "catalogs" / "engagements.sql"
    catalog.write_text(catalog.read_text().replace(
        "'stream.bootstrap' = 'localhost:9092'",
        "'stream.bootstrap' = 'localhost:9092', 'stream.sasl.mechanism' = 'SCRAM-SHA-512', "
        "'stream.sasl.username.env' = 'KAFKA_USER', 'stream.sasl.password.env' = 'KAFKA_PASSWORD'"))
    monkeypatch.delenv("KAFKA_USER", raising=False)
    monkeypatch.delenv("KAFKA_PASSWORD", raising=False)
    text = Project(root).compile("user_engagement", "flink-stream")
    assert "'properties.sasl.jaas.config' = '***'" in text and "'format' = 'raw'" in text
    monkeypatch.setenv("KAFKA_USER", "feature-svc")
    monkeypatch.setenv("KAFKA_PASSWORD", "hunter2-secret")
    text = Project(root).compile("user_engagement", "flink-stream")
    assert "hunter2-secret" not in text and "feature-svc" not in text
    assert "rejected_engagements" in text


def test_metrics_count_consumed_and_rejected_at_the_counted_source_and_late_at_the_late_writer() -> None:
    from featuresql.engines.flink_stream import _Metrics

    # The shape of Flink 2.3's REST answers for a samples stream that reads engagements twice
    # (as events, counted, and as spine points): each role has its arrivals view and its late
    # writer, and both writers set aside the same late record; one dead-letter sink per table.
    vertices = {
        "v1": ("Source: in_src_engagements[1] -> Calc[2] -> Calc[3] -> StreamingFileWriter",
               "[1]:TableSourceScan(table=[[in_src_engagements]])<br/>[2]:Calc(select=[user_id, __rowtime], "
               "where=[IS NULL(__reject)])<br/>[3]:Calc(select=[__reject AS reason, CAST(__payload AS BYTES) AS "
               "payload, __timestamp AS timestamp])<br/>StreamingFileWriter",
               {"Source__in_src_engagements[1].numRecordsOut": 10, "Calc[3].numRecordsOut": 2,
                "StreamingFileWriter.numRecordsIn": 2}, []),
        "v2": ("OverAggregate[4] -> Calc[5] -> StreamingFileWriter",
               "[4]:OverAggregate(...)<br/>[5]:Calc(select=[user_id, __mark AS __watermark])<br/>StreamingFileWriter",
               {"StreamingFileWriter.numRecordsIn": 1}, ["v1"]),
        "v4": ("Source: in_spine_engagements[8] -> Calc[9]",
               "[8]:TableSourceScan(table=[[in_spine_engagements]])<br/>[9]:Calc(select=[user_id, __rowtime])",
               {"Source__in_spine_engagements[8].numRecordsOut": 10}, []),
        "v5": ("OverAggregate[10] -> Calc[11] -> StreamingFileWriter",
               "[10]:OverAggregate(...)<br/>[11]:Calc(select=[user_id, __mark AS __watermark])<br/>StreamingFileWriter",
               {"StreamingFileWriter.numRecordsIn": 1}, ["v4"]),
        "v3": ("OverAggregate[7] -> StreamingFileWriter", "[7]:OverAggregate(...)<br/>StreamingFileWriter",
               {"StreamingFileWriter.numRecordsIn": 7}, ["v1", "v4"]),
    }
    answers = {
        "/jobs/j": {"state": "RUNNING", "vertices": [{"id": v, "name": name} for v, (name, *_) in vertices.items()]},
        "/jobs/j/plan": {"plan": {"nodes": [
            {"id": v, "description": d, "inputs": [{"num": i, "id": up} for i, up in enumerate(ups)]}
            for v, (_, d, _, ups) in vertices.items()
        ]}},
    }
    for v, (_, _, values, _) in vertices.items():
        answers[f"/jobs/j/vertices/{v}/metrics"] = [{"id": f"0.{m}"} for m in values]

    metrics = _Metrics(0, "j", ("in_src_engagements",))

    def get(path: str) -> object:
        if "?get=" in path:
            base, wanted = path.split("?get=")
            values = vertices[base.split("/")[4]][2]
            return [{"id": m, "value": str(values[m.split(".", 1)[1]])} for m in wanted.split(",")]
        return answers[path]

    metrics._get = get  # type: ignore[method-assign]
    # consumed 10 = processed 7 + late 1 + rejected 2: the spine role's source and late writer are not counted.
    assert metrics.read() == ("RUNNING", 10, 1, 2, 7)
