"""Benchmarks for featuresql (issue 6): `make bench` or `python -m bench --size 1m`.

The data flow: `data` generates a dataset and its bench project once, `runner`
runs each arm in its own subprocess (warm-up, then repeats; time, peak RSS,
timeout, memory cap), `check` compares what the arms produced, `machine` says
where it ran, and `report` writes `bench/results/<date>.md` and `.json`.
Arms live in `bench.arms`, one module per competitor.
"""
