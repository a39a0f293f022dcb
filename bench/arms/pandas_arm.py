"""The samples workload in pandas: time-based groupby-rolling for the features,
merge_asof for the label. Timed from reading the Parquet files to the frame.

Window edges (docs/semantics.md section 2, t - w <= time < t): the spine's
query points are put into the event stream, sorted before events of the same
millisecond, and rolled with closed='left' ([t - w, t)), so neither the event
at t nor its same-millisecond peers are seen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.arms import END, START, table

WINDOWS = {"10m": "600000ms", "1h": "3600000ms", "1d": "86400000ms", "7d": "604800000ms"}
LONGEST = pd.Timedelta(days=7)
HORIZON = pd.Timedelta(minutes=10)
SPINE_COLUMNS = ["impression_id", "user_id", "post_id", "author_id", "position", "event_time"]


def _read(root: Path, name: str, columns: list[str]) -> pd.DataFrame:
    # pyarrow reads the glob's folder; the Parquet files are the only thing in it.
    frame = pd.read_parquet(Path(table(root, name)).parent, columns=columns)
    # One time unit everywhere: merge_asof refuses to mix ms and us keys.
    frame["event_time"] = frame["event_time"].astype("datetime64[ms]")
    return frame


def _features(spine: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    queries = spine.loc[spine.user_id.notna(), ["impression_id", "user_id", "event_time"]]
    stream = pd.concat(
        [
            queries.assign(kind=0),  # 0 sorts query points before events of the same ms
            events.assign(
                kind=1,
                one=1.0,
                top=(events.position <= 3).astype(float),
                deep=(events.position > 10).astype(float),
                pos=events.position.astype(float),
            ),
        ],
        ignore_index=True,
    ).sort_values(["user_id", "event_time", "kind"], kind="stable", ignore_index=True)
    is_query = (stream.kind == 0).to_numpy()
    out = pd.DataFrame({"impression_id": stream.impression_id[is_query].to_numpy()})
    grouped = stream.groupby("user_id", sort=True)
    for w, length in WINDOWS.items():
        rolling = grouped.rolling(length, on="event_time", closed="left")
        # groupby-rolling returns rows in group order; the stream is sorted by group already.
        sums = rolling[["one", "top", "deep", "pos"]].sum()
        low, high = rolling["pos"].min(), rolling["pos"].max()
        n = sums["one"].to_numpy()[is_query]
        n = np.nan_to_num(n, nan=0.0)  # a window with no event: count 0
        top = np.nan_to_num(sums["top"].to_numpy()[is_query], nan=0.0)
        pos_sum = sums["pos"].to_numpy()[is_query]
        out[f"imps_{w}"] = n
        out[f"top_imps_{w}"] = top
        out[f"deep_imps_{w}"] = np.nan_to_num(sums["deep"].to_numpy()[is_query], nan=0.0)
        out[f"pos_sum_{w}"] = np.where(n > 0, pos_sum, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"pos_avg_{w}"] = np.where(n > 0, pos_sum / n, np.nan)
            out[f"top_share_{w}"] = np.where(n > 0, top / n, np.nan)
        out[f"pos_min_{w}"] = low.to_numpy()[is_query]
        out[f"pos_max_{w}"] = high.to_numpy()[is_query]
    return out


def _labels(spine: pd.DataFrame, clicks: pd.DataFrame) -> pd.DataFrame:
    keyed = spine.loc[spine.user_id.notna() & spine.post_id.notna(), ["impression_id", "user_id", "post_id", "event_time"]]
    matched = pd.merge_asof(
        keyed.sort_values("event_time"),
        clicks.rename(columns={"event_time": "click_time"}).sort_values("click_time"),
        left_on="event_time",
        right_on="click_time",
        by=["user_id", "post_id"],
        direction="forward",
        allow_exact_matches=False,  # t < click time: the lower edge is exclusive
        tolerance=HORIZON,  # click time <= t + 10m: the upper edge is inclusive
    )
    return pd.DataFrame({"impression_id": matched.impression_id, "clicked": matched.click_time.notna()})


def samples(root: Path) -> Callable[[], pd.DataFrame]:
    start, end = pd.Timestamp(START), pd.Timestamp(END)

    def run() -> pd.DataFrame:
        spine = _read(root, "spine", SPINE_COLUMNS)
        spine = spine[spine.event_time.notna() & (spine.event_time >= start) & (spine.event_time < end)]
        events = _read(root, "impressions", ["user_id", "event_time", "position"])
        events = events[
            events.user_id.notna() & events.event_time.notna()
            & (events.event_time >= start - LONGEST) & (events.event_time < end)
        ]
        clicks = _read(root, "engagements", ["user_id", "post_id", "action", "event_time"])
        clicks = clicks.loc[
            (clicks.action == "click") & clicks.user_id.notna() & clicks.event_time.notna(),
            ["user_id", "post_id", "event_time"],
        ]
        result = spine.merge(_features(spine, events), on="impression_id", how="left")
        result = result.merge(_labels(spine, clicks), on="impression_id", how="left")
        return result
    return run
