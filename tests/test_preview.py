"""Previews (featuresql/preview.py): the same rows as backfill and samples, narrowed in SQL.

Every preview is compared with the full `backfill_table` / `samples_table` of
the same range on the example project with 20,000 generated events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from featuresql import FeaturesqlError, Project
from featuresql.datagen import generate
from helpers import EVENTS_CATALOG, GOOD_FEATURE, copy_example_project, write_project

LAST_DAY = (datetime(2026, 1, 11), datetime(2026, 1, 12))  # generate() covers 2026-01-05 .. 2026-01-12


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = copy_example_project(tmp_path_factory.mktemp("preview") / "project")
    generate(root / "data", events=20_000)
    return Project(root)


def sorted_rows(table: pa.Table, keys: list[str]) -> list[dict]:
    return table.sort_by([(k, "ascending") for k in keys]).to_pylist()


def busiest(table: pa.Table, column: str) -> str:
    counts = pc.value_counts(table.column(column)).to_pylist()
    return max(counts, key=lambda item: item["counts"])["values"]


# ---------------------------------------------------------------------------------------
# features: the update log of the range, the entity filter inside the SQL
# ---------------------------------------------------------------------------------------


def test_feature_preview_defaults_to_the_last_day_and_matches_backfill(example: Project) -> None:
    preview = example.preview("user_engagement", limit=None)
    assert (preview.start, preview.end) == LAST_DAY
    full = example.backfill_table("user_engagement", *LAST_DAY)
    assert preview.total_rows == full.num_rows == preview.table.num_rows > 0
    assert preview.table.schema == full.schema
    keys = ["event_time", "user_id", "events_lifetime"]
    assert sorted_rows(preview.table, keys) == sorted_rows(full, keys)


def test_limit_returns_the_first_rows_in_time_order(example: Project) -> None:
    preview = example.preview("user_engagement", limit=7)
    assert preview.table.num_rows == 7
    assert preview.total_rows > 7
    times = preview.table.column("event_time").to_pylist()
    assert times == sorted(times)
    full = example.backfill_table("user_engagement", *LAST_DAY)
    assert times[0] == min(full.column("event_time").to_pylist())


def test_entity_filter_gives_the_entitys_rows_of_the_full_log(example: Project) -> None:
    full = example.backfill_table("user_engagement", *LAST_DAY)
    user = busiest(full, "user_id")
    preview = example.preview("user_engagement", entity=user, limit=None)
    expected = full.filter(pc.equal(full.column("user_id"), user))
    assert preview.entity == {"user_id": (user,)}
    assert preview.total_rows == expected.num_rows > 1
    assert sorted_rows(preview.table, ["event_time", "events_lifetime"]) == sorted_rows(expected, ["event_time", "events_lifetime"])


def test_entity_filter_is_applied_to_the_events_before_the_window_pass(example: Project) -> None:
    preview = example.preview("user_engagement", entity="u1")
    events_cte = preview.sql.split("windowed AS")[0]
    assert "\"user_id\" IN ('u1')" in events_cte
    assert "action <> 'spam'" in events_cte  # the feature's own WHERE is kept


def test_several_values_and_composite_keys(example: Project) -> None:
    full = example.backfill_table("user_engagement", *LAST_DAY)
    users = sorted(set(full.column("user_id").to_pylist()))[:3]
    preview = example.preview("user_engagement", entity=users, limit=None)
    assert set(preview.table.column("user_id").to_pylist()) == set(users)

    affinity = example.backfill_table("user_author_affinity", *LAST_DAY)
    first = affinity.slice(0, 1).to_pylist()[0]
    pair = example.preview("user_author_affinity", entity=(first["user_id"], first["author_id"]), limit=None)
    mapping = example.preview("user_author_affinity", entity={"user_id": first["user_id"], "author_id": [first["author_id"]]}, limit=None)
    assert pair.total_rows == mapping.total_rows > 0
    assert {(r["user_id"], r["author_id"]) for r in pair.table.to_pylist()} == {(first["user_id"], first["author_id"])}


@pytest.mark.parametrize("entity, message", [
    ({"nope": "x"}, "has no column nope"),
    ({"user_id": []}, "no value given"),
])
def test_bad_entity_filters_are_clear_errors(example: Project, entity: object, message: str) -> None:
    with pytest.raises(FeaturesqlError, match=message):
        example.preview("user_engagement", entity=entity)


def test_composite_key_needs_one_value_per_key(example: Project) -> None:
    with pytest.raises(FeaturesqlError, match="one value per key"):
        example.preview("user_author_affinity", entity="u1")


def test_explicit_ranges(example: Project) -> None:
    preview = example.preview("post_popularity", start="2026-01-09 12:00", limit=None)
    assert (preview.start, preview.end) == (datetime(2026, 1, 9, 12), datetime(2026, 1, 10, 12))
    assert preview.total_rows == example.backfill_table("post_popularity", preview.start, preview.end).num_rows
    before = example.preview("post_popularity", end="2026-01-09")
    assert (before.start, before.end) == (datetime(2026, 1, 8), datetime(2026, 1, 9))
    with pytest.raises(FeaturesqlError, match="must be after"):
        example.preview("post_popularity", start="2026-01-09", end="2026-01-08")
    with pytest.raises(FeaturesqlError, match="not a date"):
        example.preview("post_popularity", start="yesterday")


def test_unknown_names_and_bad_limits(example: Project) -> None:
    with pytest.raises(FeaturesqlError, match="unknown feature or samples nope; known: author_reach"):
        example.preview("nope")
    with pytest.raises(FeaturesqlError, match="positive"):
        example.preview("user_engagement", limit=0)


def test_missing_data_is_one_clear_error(tmp_path: Path) -> None:
    project = Project(write_project(tmp_path, {"events": EVENTS_CATALOG}, {"f": GOOD_FEATURE}))
    with pytest.raises(FeaturesqlError, match="no data files"):
        project.preview("user_stats")


# ---------------------------------------------------------------------------------------
# samples: the first `limit` spine rows, computed alone
# ---------------------------------------------------------------------------------------


def test_samples_preview_is_the_first_spine_rows_of_the_full_samples(example: Project) -> None:
    preview = example.preview("ctr", limit=300)
    assert preview.kind == "samples"
    assert preview.total_rows == preview.table.num_rows == 300
    full = example.samples_table("ctr", *LAST_DAY)
    first = full.sort_by([("event_time", "ascending"), ("impression_id", "ascending")]).slice(0, 300)
    ids = set(preview.table.column("impression_id").to_pylist())
    assert ids == set(first.column("impression_id").to_pylist())
    expected = full.filter(pc.is_in(full.column("impression_id"), pa.array(sorted(ids))))
    assert sorted_rows(preview.table, ["impression_id"]) == sorted_rows(expected, ["impression_id"])
    assert preview.value_columns[-1] == "clicked"


def test_samples_entity_filter_picks_spine_rows(example: Project) -> None:
    full = example.samples_table("ctr", *LAST_DAY)
    user = busiest(full, "user_id")
    preview = example.preview("ctr", entity={"user_id": user}, limit=None)
    expected = full.filter(pc.equal(full.column("user_id"), user))
    assert preview.total_rows == expected.num_rows > 1
    assert sorted_rows(preview.table, ["impression_id"]) == sorted_rows(expected, ["impression_id"])


def test_samples_entity_filter_needs_spine_columns(example: Project) -> None:
    with pytest.raises(FeaturesqlError, match=r"\{column: value\}"):
        example.preview("ctr", entity="u1")


# ---------------------------------------------------------------------------------------
# the summary and the Python side
# ---------------------------------------------------------------------------------------


def test_summary_null_share_min_mean_max(example: Project) -> None:
    preview = example.preview("ctr", limit=500)
    frame = preview.to_pandas()
    summary = {row["column"]: row for row in preview.summary.to_pylist()}
    assert list(summary) == preview.table.column_names
    label = summary["clicked"]
    assert label["type"] == "BOOLEAN"
    assert label["mean"] == pytest.approx(frame["clicked"].mean())
    assert label["null_share"] == 0
    recency = summary["ua_seconds_since_click_1d"]
    assert recency["null_share"] == pytest.approx(frame["ua_seconds_since_click_1d"].isna().mean())
    count = summary["events_1d"]
    assert (float(count["min"]), count["mean"], float(count["max"])) == pytest.approx(
        (frame["events_1d"].min(), frame["events_1d"].mean(), frame["events_1d"].max())
    )
    assert summary["user_id"]["mean"] is None


def test_repr_and_pandas(example: Project) -> None:
    preview = example.preview("post_popularity", limit=3)
    assert repr(preview).startswith("<Preview feature post_popularity: ")
    assert len(preview.to_pandas()) == 3
    assert "post_clicks_1h" in preview._repr_html_()


def test_preview_window_needs_history_before_the_range(example: Project) -> None:
    # Lifetime windows see every earlier event, even those before the previewed day.
    preview = example.preview("user_engagement", limit=None)
    assert max(preview.table.column("events_lifetime").to_pylist()) > max(preview.table.column("events_1d").to_pylist())
    assert preview.start - timedelta(days=1) >= datetime(2026, 1, 5)
