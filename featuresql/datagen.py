"""A deterministic, Weibo-like feed dataset for the example project.

Two tables are written as snappy Parquet:

* ``impressions/part-NNNN.parquet``: a post shown to a user at a feed rank.
* ``engagements/part-NNNN.parquet``: clicks that follow impressions, plus likes,
  reposts and comments that follow clicks, plus rare unrelated ``spam`` rows.

The data is shaped to exercise the boundary contract (``docs/semantics.md``):
skewed entities so heavy users have long histories, clicks that land a few
seconds to minutes after their impression (the 10-minute click label), exact
millisecond ties, a little out-of-order arrival and a few malformed rows.

Everything is vectorized numpy/Arrow. Work is done in time slices (a day, or a
fraction of a day for big sizes), so memory stays bounded whatever ``events``
is. Each slice draws from its own child of one ``SeedSequence``, so the same
arguments always give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["GeneratedData", "SKEWS", "generate", "parse_size", "IMPRESSIONS_SCHEMA", "ENGAGEMENTS_SCHEMA"]

IMPRESSIONS_SCHEMA = pa.schema(
    [
        ("impression_id", pa.string()),
        ("user_id", pa.string()),
        ("post_id", pa.string()),
        ("author_id", pa.string()),
        ("position", pa.int32()),
        ("event_time", pa.timestamp("ms")),
    ]
)
ENGAGEMENTS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("post_id", pa.string()),
        ("author_id", pa.string()),
        ("action", pa.string()),
        ("dwell_ms", pa.int64()),
        ("event_time", pa.timestamp("ms")),
    ]
)

_DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1)

# Action codes index into this list; the Arrow strings are built once by `take`.
_ACTIONS = ["click", "like", "repost", "comment", "spam"]
_CLICK, _LIKE, _REPOST, _COMMENT, _SPAM = range(5)

# A slice (one pair of files) holds about this many events of both tables.
# It bounds peak memory: a slice is a few hundred bytes per row while built.
_EVENTS_PER_SLICE = 2_000_000

# --- entity populations ------------------------------------------------------
_EVENTS_PER_USER = 20
_EVENTS_PER_POST = 50
_POSTS_PER_AUTHOR = 8
_MIN_USERS = 100
_MIN_POSTS = 50
_MIN_AUTHORS = 10
# Zipf exponents over finite populations, below 1 so the head is heavy but not
# absurd (at 1m events the top user has ~2.5% of impressions). Posts are a bit
# steeper: attention to content concentrates more than readers' activity. An
# author's traffic is the sum over their posts, so big accounts emerge.
_USER_ZIPF = 0.8
_POST_ZIPF = 0.9
_AUTHOR_ZIPF = 0.8
# Named key-skew variants: (user, post, author) exponents. "zipf" is a steep
# hot-key variant for benchmarks (exponents above 1: at 10m events the top user
# has ~14% of impressions), so one window partition dwarfs the rest.
SKEWS: dict[str, tuple[float, float, float]] = {
    "default": (_USER_ZIPF, _POST_ZIPF, _AUTHOR_ZIPF),
    "zipf": (1.1, 1.1, 1.1),
}
# Per-user click propensity and per-post appeal, lognormal with mean 1. They
# make a user's past click rate and a post's past CTR predictive of the label.
_USER_PROPENSITY_SIGMA = 0.6
_POST_APPEAL_SIGMA = 0.5

# --- traffic shape -------------------------------------------------------------
# Relative activity by local hour in UTC+8 (Weibo-like: a 3-6am trough, a lunch
# bump, an evening peak around 21-22h). Interpolated linearly, so the density is
# continuous; the CDF is built numerically, so any shape works.
_LOCAL_HOUR_WEIGHTS = np.array(
    [0.90, 0.60, 0.40, 0.28, 0.22, 0.22, 0.30, 0.50, 0.70, 0.80, 0.85, 0.90,
     1.00, 0.95, 0.85, 0.85, 0.85, 0.90, 0.95, 1.05, 1.20, 1.35, 1.40, 1.20]
)
_UTC_OFFSET_HOURS = 8
_WEEKEND_BOOST = 1.12

# --- feed sessions -------------------------------------------------------------
# A session is one feed load scrolled to some depth. The first screen shows
# several posts at once, so they share one millisecond (a natural source of
# same-user ties); later positions follow after a scroll gap.
_MEAN_SESSION_DEPTH = 9.0
_MAX_POSITION = 50
_FIRST_SCREEN = 3
# Share of impressions that are push deliveries, and mean users per push.
_PUSH_SHARE = 0.01
_PUSH_GROUP_MEAN = 10.0
_SCROLL_GAP_MIN_MS = 200
_SCROLL_GAP_MEAN_MS = 2_500.0

# --- clicks and follow-up actions ---------------------------------------------
# CTR by rank: _CTR_TOP * position ** -_CTR_DECAY, scaled by user and post.
_CTR_TOP = 0.10
_CTR_DECAY = 0.35
_MAX_CLICK_PROB = 0.9
# Click delay: at least one second after the impression (so truncating the
# click to a whole second never moves it before its impression), then a
# mixture of a quick exponential and a slow one (some clicks miss 10 minutes).
_CLICK_DELAY_MIN_MS = 1_000
_CLICK_DELAY_FAST_MS = 20_000.0
_CLICK_DELAY_SLOW_MS = 240_000.0
_CLICK_DELAY_SLOW_SHARE = 0.12
# Dwell on a click: lognormal, median 9 s, heavy right tail, capped at 30 min.
_DWELL_MEDIAN_MS = 9_000.0
_DWELL_SIGMA = 1.2
_DWELL_MAX_MS = 1_800_000
_FOLLOW_UP_PROB = {_LIKE: 0.30, _REPOST: 0.06, _COMMENT: 0.10}
_FOLLOW_UP_MIN_MS = 1_000
_FOLLOW_UP_DWELL_NULL_PROB = 0.6
_SPAM_PER_IMPRESSION = 0.0005

# --- deliberate imperfections ------------------------------------------------
_CLICK_TIE_SHARE = 0.03  # clicks moved onto the next impression of the session
_SECOND_TRUNCATE_SHARE = 0.01  # events whose time is floored to a whole second
_LATE_SHARE = 0.01  # rows written later in the file than their time says
_LATE_FAST_MS = 20_000.0
_LATE_SLOW_MS = 600_000.0
_LATE_SLOW_SHARE = 0.2
_MALFORMED_SHARE = 0.0001
_MALFORMED_MIN_EVENTS = 1_000

_PART_GLOBS = ("part-*.parquet", ".part-*.parquet.tmp")


@dataclass(frozen=True)
class GeneratedData:
    """What `generate` wrote. Counts are rows in the files, malformed included."""

    impressions: int
    engagements: int
    malformed: int
    start: datetime
    end: datetime
    files: list[Path]


_SIZE = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([kmg]?)\s*$", re.IGNORECASE)
_SIZE_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def parse_size(text: str) -> int:
    """Parse an event count: ``5000``, ``200k``, ``1m``, ``1.5m``, ``2g``.

    The suffix is decimal (k = thousand, m = million, g = billion) and case
    insensitive. Raises ValueError for anything that is not a positive whole
    number of events.
    """
    hint = "write a positive whole number, optionally with a k, m or g suffix, e.g. 5000, 200k, 1m"
    match = _SIZE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"'{text}' is not a size: {hint}")
    number, suffix = match.group(1).replace("_", ""), match.group(2).lower()
    scale = _SIZE_SCALE[suffix]
    if "." in number:
        whole, frac = number.split(".")
        # Exact decimal arithmetic: "1.5m" is 1_500_000, "1.0000001k" is an error.
        digits = len(frac)
        scaled = int(whole + frac) * scale
        if scaled % 10**digits:
            raise ValueError(f"'{text}' is not a whole number of events: {hint}")
        value = scaled // 10**digits
    else:
        value = int(number) * scale
    if value <= 0:
        raise ValueError(f"'{text}' must be a positive size: {hint}")
    return value


def generate(
    out_dir: Path,
    events: int = 1_000_000,
    days: int = 7,
    seed: int = 7,
    start: datetime = datetime(2026, 1, 5),
    progress: Callable[[int], None] | None = None,
    skew: str = "default",
) -> GeneratedData:
    """Write the impressions and engagements tables under ``out_dir``.

    ``events`` is the approximate total of impression and engagement rows;
    ``start`` is a UTC midnight (naive, or aware and converted to UTC) and the
    data covers ``[start, start + days)``. Previously generated part files in
    the two table folders are removed first, and each file is written under a
    temporary name and renamed, so reruns are idempotent and an interrupted run
    leaves no partial file. ``progress`` is called after each file with the
    number of rows that file holds; ``GeneratedData.files`` lists the files in
    the order they were written. ``skew`` names the key popularity variant
    (``SKEWS``); the default keeps the files byte-identical to earlier versions.
    """
    events = _positive_int("events", events)
    if skew not in SKEWS:
        raise ValueError(f"skew must be one of {', '.join(SKEWS)}, got {skew!r}")
    days = _positive_int("days", days)
    if start.tzinfo is not None:
        start = start.astimezone(timezone.utc).replace(tzinfo=None)
    if start != datetime(start.year, start.month, start.day):
        raise ValueError(f"start must be a midnight (UTC), got {start.isoformat()}")
    end = start + timedelta(days=days)
    out_dir = Path(out_dir)

    table_dirs = {"impressions": out_dir / "impressions", "engagements": out_dir / "engagements"}
    for folder in table_dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
        _remove_parts(folder)

    start_ms = (start - _EPOCH) // timedelta(milliseconds=1)
    slices = _plan_slices(start, days, events)
    seeds = np.random.SeedSequence(seed).spawn(len(slices) + 1)
    population = _Population.build(events, np.random.default_rng(seeds[0]), SKEWS[skew])
    malformed_target = _malformed_target(events)

    writer = _Writer(table_dirs, population, progress)
    imp_carry = _ImpressionBatch.empty()
    eng_carry = _EngagementBatch.empty()
    generated_imp = generated_eng = 0
    next_impression_id = 1
    cumulative_weight = 0.0
    for index, plan in enumerate(slices):
        rng = np.random.default_rng(seeds[index + 1])
        cumulative_weight += plan.weight
        # Size each slice against the running total, using the engagement ratio
        # seen so far: totals land close to `events` however the random CTR
        # of the skewed population turns out.
        ratio = generated_eng / generated_imp if generated_imp else _expected_engagement_ratio()
        wanted = events * cumulative_weight - (generated_imp + generated_eng)
        n_impressions = max(0, round(wanted / (1.0 + ratio)))
        imp, eng = _simulate_slice(
            rng, population, start_ms + plan.begin_ms, start_ms + plan.end_ms,
            n_impressions, next_impression_id,
        )
        next_impression_id += len(imp)
        generated_imp += len(imp)
        generated_eng += len(eng)

        # Events past the slice end (long sessions, late clicks) belong to the
        # next slice's files, so every file covers exactly its own time range.
        slice_end = start_ms + plan.end_ms
        imp = _ImpressionBatch.concat(imp_carry, imp)
        eng = _EngagementBatch.concat(eng_carry, eng)
        imp, imp_carry = imp.split(slice_end)
        eng, eng_carry = eng.split(slice_end)
        writer.write(rng, imp, eng, malformed_target)

    # Whatever is still carried lies at or after `end` and is not written.
    return GeneratedData(
        impressions=writer.rows["impressions"],
        engagements=writer.rows["engagements"],
        malformed=writer.malformed["impressions"] + writer.malformed["engagements"],
        start=start,
        end=end,
        files=writer.files,
    )


def _positive_int(name: str, value: object) -> int:
    # numbers.Integral admits numpy integers; bool is excluded on purpose.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------
# planning


@dataclass(frozen=True)
class _SlicePlan:
    begin_ms: int  # offset from `start`
    end_ms: int
    weight: float  # share of all events expected in this slice


def _diurnal_cdf() -> np.ndarray:
    """CDF of the time-of-day density on a grid of whole seconds (86_401 points)."""
    hours = (np.arange(24) - _UTC_OFFSET_HOURS) % 24  # UTC hour of each local hour
    by_utc_hour = np.empty(24)
    by_utc_hour[hours] = _LOCAL_HOUR_WEIGHTS
    # Each hourly weight sits at the middle of its hour; wrap for periodicity.
    knots = np.concatenate([[-0.5], np.arange(24) + 0.5, [24.5]]) * 3600.0
    values = np.concatenate([[by_utc_hour[-1]], by_utc_hour, [by_utc_hour[0]]])
    seconds = np.arange(86_401, dtype=np.float64)
    density = np.interp(seconds, knots, values)
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2.0)])
    return cdf / cdf[-1]


_CDF = _diurnal_cdf()
_CDF_SECONDS = np.arange(86_401, dtype=np.float64)


def _day_share(ms_of_day: int) -> float:
    return float(np.interp(ms_of_day / 1000.0, _CDF_SECONDS, _CDF))


def _plan_slices(start: datetime, days: int, events: int) -> list[_SlicePlan]:
    """Cut each day into equal slices so no slice holds much more than
    `_EVENTS_PER_SLICE` events; weight slices by day of week and time of day."""
    day_weights = np.array(
        [_WEEKEND_BOOST if (start + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)]
    )
    day_weights = day_weights / day_weights.sum()
    per_slice = max(1, math.ceil(events * float(day_weights.max()) / _EVENTS_PER_SLICE))
    plans: list[_SlicePlan] = []
    for day in range(days):
        for part in range(per_slice):
            lo = part * _DAY_MS // per_slice
            hi = (part + 1) * _DAY_MS // per_slice
            weight = float(day_weights[day]) * (_day_share(hi) - _day_share(lo))
            plans.append(_SlicePlan(day * _DAY_MS + lo, day * _DAY_MS + hi, weight))
    return plans


def _ctr(position: np.ndarray) -> np.ndarray:
    return _CTR_TOP * position.astype(np.float64) ** -_CTR_DECAY


def _depth_probabilities() -> np.ndarray:
    """P(depth = k), k = 1.._MAX_POSITION: geometric, the tail folded into 50."""
    p = 1.0 / _MEAN_SESSION_DEPTH
    k = np.arange(1, _MAX_POSITION + 1)
    probs = p * (1.0 - p) ** (k - 1)
    probs[-1] += (1.0 - p) ** _MAX_POSITION
    return probs


def _expected_engagement_ratio() -> float:
    """Engagement rows per impression before any data exists (first slice only)."""
    depth = _depth_probabilities()
    # Impressions at position k come from sessions at least k deep.
    at_position = depth[::-1].cumsum()[::-1]
    ctr = float((at_position * _ctr(np.arange(1, _MAX_POSITION + 1))).sum() / at_position.sum())
    return ctr * (1.0 + sum(_FOLLOW_UP_PROB.values())) + _SPAM_PER_IMPRESSION


def _malformed_target(events: int) -> Callable[[int], int]:
    """Malformed rows a table should have after `rows` rows: ~0.01%, and at
    least one as soon as there is a row when the run has >= 1000 events."""
    floor = 1 if events >= _MALFORMED_MIN_EVENTS else 0

    def target(rows: int) -> int:
        if rows <= 0:
            return 0
        return max(floor, int(rows * _MALFORMED_SHARE + 0.5))

    return target


# ---------------------------------------------------------------------------
# populations


def _zipf_cdf(n: int, exponent: float) -> np.ndarray:
    weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Ranks drawn by inverse CDF (vectorized; rank 0 is the most popular)."""
    ranks = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(ranks, len(cdf) - 1).astype(np.int32)


def _id_strings(prefix: str, numbers: np.ndarray) -> pa.Array:
    """`prefix` + decimal number, built in Arrow rather than a Python loop."""
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def _mean_one_lognormal(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    return rng.lognormal(-sigma * sigma / 2.0, sigma, size)


@dataclass(frozen=True)
class _Population:
    """Users, posts and authors, indexed by popularity rank.

    Ids are a random permutation of 1..n, so 'u1' is not the heaviest user and
    id order carries no signal.
    """

    user_cdf: np.ndarray
    user_ids: pa.Array
    user_propensity: np.ndarray
    post_cdf: np.ndarray
    post_ids: pa.Array
    post_appeal: np.ndarray
    post_author: np.ndarray  # author rank of each post rank
    author_ids: pa.Array

    @staticmethod
    def build(
        events: int, rng: np.random.Generator, exponents: tuple[float, float, float] = SKEWS["default"]
    ) -> _Population:
        user_zipf, post_zipf, author_zipf = exponents
        n_users = max(_MIN_USERS, events // _EVENTS_PER_USER)
        n_posts = max(_MIN_POSTS, events // _EVENTS_PER_POST)
        n_authors = max(_MIN_AUTHORS, n_posts // _POSTS_PER_AUTHOR)
        author_cdf = _zipf_cdf(n_authors, author_zipf)
        return _Population(
            user_cdf=_zipf_cdf(n_users, user_zipf),
            user_ids=_id_strings("u", rng.permutation(n_users) + 1),
            user_propensity=_mean_one_lognormal(rng, _USER_PROPENSITY_SIGMA, n_users),
            post_cdf=_zipf_cdf(n_posts, post_zipf),
            post_ids=_id_strings("p", rng.permutation(n_posts) + 1),
            post_appeal=_mean_one_lognormal(rng, _POST_APPEAL_SIGMA, n_posts),
            post_author=_draw(rng, author_cdf, n_posts),
            author_ids=_id_strings("a", rng.permutation(n_authors) + 1),
        )


# ---------------------------------------------------------------------------
# batches: columns as numpy arrays of ranks and codes, strings only at write


@dataclass(frozen=True)
class _ImpressionBatch:
    impression_id: np.ndarray  # int64
    user: np.ndarray  # int32 user rank
    post: np.ndarray  # int32 post rank
    position: np.ndarray  # int32
    time: np.ndarray  # int64 epoch ms
    clicked: np.ndarray  # bool: produced a click (never made malformed)

    def __len__(self) -> int:
        return len(self.time)

    @staticmethod
    def empty() -> _ImpressionBatch:
        return _ImpressionBatch(
            np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int32),
            np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, bool),
        )

    @staticmethod
    def concat(*batches: _ImpressionBatch) -> _ImpressionBatch:
        return _ImpressionBatch(*(np.concatenate(columns) for columns in zip(*map(_columns, batches))))

    def take(self, index: np.ndarray) -> _ImpressionBatch:
        return _ImpressionBatch(*(column[index] for column in _columns(self)))

    def split(self, before_ms: int) -> tuple[_ImpressionBatch, _ImpressionBatch]:
        early = self.time < before_ms
        return self.take(early), self.take(~early)


@dataclass(frozen=True)
class _EngagementBatch:
    user: np.ndarray  # int32 user rank
    post: np.ndarray  # int32 post rank
    action: np.ndarray  # int8 code into _ACTIONS
    dwell: np.ndarray  # int64, -1 for NULL
    time: np.ndarray  # int64 epoch ms

    def __len__(self) -> int:
        return len(self.time)

    @staticmethod
    def empty() -> _EngagementBatch:
        return _EngagementBatch(
            np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.int8),
            np.empty(0, np.int64), np.empty(0, np.int64),
        )

    @staticmethod
    def concat(*batches: _EngagementBatch) -> _EngagementBatch:
        return _EngagementBatch(*(np.concatenate(columns) for columns in zip(*map(_columns, batches))))

    def take(self, index: np.ndarray) -> _EngagementBatch:
        return _EngagementBatch(*(column[index] for column in _columns(self)))

    def split(self, before_ms: int) -> tuple[_EngagementBatch, _EngagementBatch]:
        early = self.time < before_ms
        return self.take(early), self.take(~early)


def _columns(batch: _ImpressionBatch | _EngagementBatch) -> list[np.ndarray]:
    return [getattr(batch, field.name) for field in dataclasses.fields(batch)]


# ---------------------------------------------------------------------------
# simulation


def _diurnal_times(rng: np.random.Generator, lo_ms: int, hi_ms: int, day_ms: int, size: int) -> np.ndarray:
    """`size` epoch-ms times in [day_ms + lo_ms, day_ms + hi_ms) following the
    time-of-day density, uniform at millisecond grain (inverse CDF)."""
    u = rng.uniform(_day_share(lo_ms), _day_share(hi_ms), size)
    ms = np.floor(np.interp(u, _CDF, _CDF_SECONDS) * 1000.0).astype(np.int64)
    return day_ms + np.clip(ms, lo_ms, hi_ms - 1)


def _exponential_mixture(
    rng: np.random.Generator, fast: float, slow: float, slow_share: float, size: int
) -> np.ndarray:
    scale = np.where(rng.random(size) < slow_share, slow, fast)
    return rng.exponential(1.0, size) * scale


def _simulate_slice(
    rng: np.random.Generator,
    pop: _Population,
    begin_ms: int,
    end_ms: int,
    n_impressions: int,
    first_id: int,
) -> tuple[_ImpressionBatch, _EngagementBatch]:
    """Sessions starting in [begin_ms, end_ms), their impressions and the
    engagements those cause. Later events may fall past `end_ms`."""
    # UTC midnights are whole multiples of a day since the epoch.
    day_ms = begin_ms - begin_ms % _DAY_MS
    lo_ms, hi_ms = begin_ms - day_ms, end_ms - day_ms
    n_push_groups = int(rng.poisson(n_impressions * _PUSH_SHARE / _PUSH_GROUP_MEAN))
    n_feed = max(0, round(n_impressions * (1.0 - _PUSH_SHARE) / _MEAN_SESSION_DEPTH))
    feed_depth = rng.choice(np.arange(1, _MAX_POSITION + 1), size=n_feed, p=_depth_probabilities())
    feed_start = _diurnal_times(rng, lo_ms, hi_ms, day_ms, n_feed)
    # Push deliveries: one post reaches a group of users on one server-side
    # millisecond, as one-impression sessions at position 1. They give ties
    # between different users on the same post at any data size.
    group_size = 2 + rng.poisson(_PUSH_GROUP_MEAN - 2, n_push_groups)
    group_start = _diurnal_times(rng, lo_ms, hi_ms, day_ms, n_push_groups)
    group_post = _draw(rng, pop.post_cdf, n_push_groups)
    n_push = int(group_size.sum())
    start = np.concatenate([feed_start, np.repeat(group_start, group_size)])
    depth = np.concatenate([feed_depth, np.ones(n_push, np.int64)])
    forced_post = np.concatenate([np.full(n_feed, -1, np.int32), np.repeat(group_post, group_size)])
    # Sessions in start order give impression ids that roughly follow time.
    order = np.argsort(start, kind="stable")
    start, depth, forced_post = start[order], depth[order], forced_post[order]
    n_sessions = len(start)
    session_user = _draw(rng, pop.user_cdf, n_sessions)

    n = int(depth.sum())
    session = np.repeat(np.arange(n_sessions), depth)
    first = np.cumsum(depth) - depth  # index of each session's first impression
    position = (np.arange(n) - np.repeat(first, depth) + 1).astype(np.int32)
    gap = np.floor(rng.exponential(_SCROLL_GAP_MEAN_MS, n)).astype(np.int64) + _SCROLL_GAP_MIN_MS
    gap[position <= _FIRST_SCREEN] = 0
    elapsed = np.cumsum(gap)
    elapsed -= np.repeat(elapsed[first], depth)
    time = start[session] + elapsed
    user = session_user[session]
    post = _draw(rng, pop.post_cdf, n)
    post = np.where(forced_post[session] >= 0, forced_post[session], post)

    # Clicks: rank-dependent CTR scaled by who looks and what is shown.
    p_click = np.minimum(_ctr(position) * pop.user_propensity[user] * pop.post_appeal[post], _MAX_CLICK_PROB)
    clicked = rng.random(n) < p_click
    src = np.flatnonzero(clicked)
    delay = _CLICK_DELAY_MIN_MS + np.floor(
        _exponential_mixture(rng, _CLICK_DELAY_FAST_MS, _CLICK_DELAY_SLOW_MS, _CLICK_DELAY_SLOW_SHARE, len(src))
    ).astype(np.int64)
    click_time = time[src] + delay
    # Deliberate cross-table ties: some clicks land on exactly the millisecond
    # of the user's next impression in the same session, so a sample at that
    # impression must not see the click (upper edge exclusive) and its label
    # must not count it either (lower edge exclusive).
    nxt = np.minimum(src + 1, max(n - 1, 0))
    tie_ok = (src + 1 < n) & (session[nxt] == session[src]) & (time[nxt] > time[src])
    tied = tie_ok & (rng.random(len(src)) < _CLICK_TIE_SHARE)
    click_time = np.where(tied, time[nxt], click_time)
    dwell = np.minimum(
        np.floor(rng.lognormal(math.log(_DWELL_MEDIAN_MS), _DWELL_SIGMA, len(src))).astype(np.int64) + 1,
        _DWELL_MAX_MS,
    )

    # Truncating a share of times to whole seconds makes same-millisecond
    # collisions between unrelated events. Tied clicks keep their exact tie.
    truncate = rng.random(n) < _SECOND_TRUNCATE_SHARE
    truncate[nxt[tied]] = False
    time = np.where(truncate, time - time % 1000, time)
    truncate_click = (rng.random(len(src)) < _SECOND_TRUNCATE_SHARE) & ~tied
    click_time = np.where(truncate_click, click_time - click_time % 1000, click_time)

    clicks = _EngagementBatch(
        user[src], post[src], np.full(len(src), _CLICK, np.int8), dwell, click_time
    )
    follow_ups = [clicks]
    for action, prob in _FOLLOW_UP_PROB.items():
        chosen = rng.random(len(src)) < prob
        k = int(chosen.sum())
        # After the click, during the read: never before the click itself.
        at = click_time[chosen] + _FOLLOW_UP_MIN_MS + np.floor(rng.random(k) * dwell[chosen]).astype(np.int64)
        keep_dwell = rng.random(k) >= _FOLLOW_UP_DWELL_NULL_PROB
        follow_ups.append(
            _EngagementBatch(
                user[src][chosen], post[src][chosen], np.full(k, action, np.int8),
                np.where(keep_dwell, dwell[chosen], -1), at,
            )
        )
    # Spam: bots act on arbitrary posts at arbitrary times, with no impression.
    n_spam = int(rng.binomial(n, _SPAM_PER_IMPRESSION)) if n else 0
    spam_time = rng.integers(begin_ms, end_ms, n_spam, dtype=np.int64)
    follow_ups.append(
        _EngagementBatch(
            rng.integers(0, len(pop.user_propensity), n_spam).astype(np.int32),
            _draw(rng, pop.post_cdf, n_spam), np.full(n_spam, _SPAM, np.int8),
            np.full(n_spam, -1, np.int64), spam_time,
        )
    )
    impressions = _ImpressionBatch(
        np.arange(first_id, first_id + n, dtype=np.int64), user, post, position, time, clicked
    )
    return impressions, _EngagementBatch.concat(*follow_ups)


# ---------------------------------------------------------------------------
# writing


def _remove_parts(folder: Path) -> None:
    for pattern in _PART_GLOBS:
        for path in sorted(folder.glob(pattern)):
            path.unlink()


def _arrival_order(rng: np.random.Generator, time: np.ndarray) -> np.ndarray:
    """Row order for a file: by time, except ~1% of rows that arrive late and
    so sit later in the file than their time (realistic late data)."""
    late = rng.random(len(time)) < _LATE_SHARE
    lateness = np.floor(
        _exponential_mixture(rng, _LATE_FAST_MS, _LATE_SLOW_MS, _LATE_SLOW_SHARE, len(time))
    ).astype(np.int64) + 1
    arrival = np.where(late, time + lateness, time)
    return np.argsort(arrival, kind="stable")


class _Writer:
    """Writes slices as numbered part files and keeps the running counts."""

    def __init__(
        self,
        dirs: dict[str, Path],
        population: _Population,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.dirs = dirs
        self.pop = population
        self.progress = progress
        self.files: list[Path] = []
        self.rows = {name: 0 for name in dirs}
        self.malformed = {name: 0 for name in dirs}
        self.parts = {name: 0 for name in dirs}
        self.actions = pa.array(_ACTIONS, pa.string())

    def write(
        self,
        rng: np.random.Generator,
        imp: _ImpressionBatch,
        eng: _EngagementBatch,
        malformed_target: Callable[[int], int],
    ) -> None:
        imp = imp.take(_arrival_order(rng, imp.time))
        eng = eng.take(_arrival_order(rng, eng.time))

        # Malformed impressions are picked among rows without a click, so every
        # click keeps a well-formed impression before it.
        null_user, null_time = self._malformed(
            rng, "impressions", len(imp), np.flatnonzero(~imp.clicked), malformed_target
        )
        self._emit(
            "impressions",
            pa.Table.from_arrays(
                [
                    _id_strings("i", imp.impression_id),
                    self._ids(self.pop.user_ids, imp.user, null_user),
                    self.pop.post_ids.take(pa.array(imp.post)),
                    self.pop.author_ids.take(pa.array(self.pop.post_author[imp.post])),
                    pa.array(imp.position, pa.int32()),
                    pa.array(imp.time, pa.timestamp("ms"), mask=null_time),
                ],
                schema=IMPRESSIONS_SCHEMA,
            ),
        )

        null_user, null_time = self._malformed(
            rng, "engagements", len(eng), np.arange(len(eng)), malformed_target
        )
        self._emit(
            "engagements",
            pa.Table.from_arrays(
                [
                    self._ids(self.pop.user_ids, eng.user, null_user),
                    self.pop.post_ids.take(pa.array(eng.post)),
                    self.pop.author_ids.take(pa.array(self.pop.post_author[eng.post])),
                    self.actions.take(pa.array(eng.action)),
                    pa.array(eng.dwell, pa.int64(), mask=eng.dwell < 0),
                    pa.array(eng.time, pa.timestamp("ms"), mask=null_time),
                ],
                schema=ENGAGEMENTS_SCHEMA,
            ),
        )

    def _malformed(
        self,
        rng: np.random.Generator,
        table: str,
        n: int,
        candidates: np.ndarray,
        target: Callable[[int], int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Masks for rows to write with a NULL user_id or a NULL event_time."""
        wanted = target(self.rows[table] + n) - self.malformed[table]
        k = max(0, min(wanted, len(candidates)))
        chosen = np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]
        which = rng.random(k) < 0.5
        null_user = np.zeros(n, bool)
        null_time = np.zeros(n, bool)
        null_user[chosen[which]] = True
        null_time[chosen[~which]] = True
        self.malformed[table] += k
        return null_user, null_time

    @staticmethod
    def _ids(ids: pa.Array, ranks: np.ndarray, null: np.ndarray) -> pa.Array:
        # A masked index makes `take` produce NULL for that row.
        return ids.take(pa.array(ranks, pa.int32(), mask=null))

    def _emit(self, name: str, table: pa.Table) -> None:
        folder = self.dirs[name]
        final = folder / f"part-{self.parts[name]:04d}.parquet"
        temp = folder / f".{final.name}.tmp"
        pq.write_table(table, temp, compression="snappy")
        os.replace(temp, final)
        self.parts[name] += 1
        self.rows[name] += table.num_rows
        self.files.append(final)
        if self.progress is not None:
            self.progress(table.num_rows)
