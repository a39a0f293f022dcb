"""Feature plans built on first use, so `validate` does not pay for plans it never reads.

Building a plan (measures, outputs, the `/` rewrite) costs about as much as the
checks. `validate` reads plans only for features a SAMPLES file names; compile,
backfill and samples read the plans they run. Each plan is built once, from the
same checked query, whenever it is first asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping

from featuresql.plan import AggregatePlan


class _Pending:
    """A plan not built yet: the call that builds it."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], AggregatePlan]):
        self.build = build


class LazyPlans(MutableMapping[str, AggregatePlan]):
    """A dict of plans by lowered name whose values may be deferred with `defer`."""

    def __init__(self, plans: Mapping[str, AggregatePlan] | None = None) -> None:
        # One dict for both states keeps insertion order, as a plain dict would.
        self._entries: dict[str, AggregatePlan | _Pending] = dict(plans or {})

    def defer(self, key: str, build: Callable[[], AggregatePlan]) -> None:
        """Register `key`; `build()` runs on the first read of it."""
        self._entries[key] = _Pending(build)

    def __getitem__(self, key: str) -> AggregatePlan:
        entry = self._entries[key]
        if isinstance(entry, _Pending):
            entry = self._entries[key] = entry.build()
        return entry

    def __setitem__(self, key: str, plan: AggregatePlan) -> None:
        self._entries[key] = plan

    def __delitem__(self, key: str) -> None:
        del self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        # Membership must not build the plan.
        return key in self._entries
