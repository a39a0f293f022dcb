"""The `featuresql` command line: thin commands over `featuresql.Project`."""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from featuresql.diagnostics import CODES, FeaturesqlError, render
from featuresql.engines import ENGINES, TARGETS
from featuresql.output import check_writable, create_dirs, os_error_text, output_root, remove_empty
from featuresql.project import Project

#: Set (to anything but 0) to see the traceback of an internal error.
DEBUG_VARIABLE = "FEATURESQL_DEBUG"


def _parse_vars(values: tuple[str, ...]) -> dict[str, str]:
    variables = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key.strip().isidentifier():
            raise click.BadParameter(f"'{value}' is not NAME=VALUE", param_hint="--var")
        variables[key.strip()] = raw
    return variables


def one_line(text: str) -> str:
    """A message on one line: the lines of `text`, stripped, joined with '; '."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def error_text(err: FeaturesqlError) -> str:
    """Diagnostics one per line (each is one line: `path:line:col: CODE message`); a plain message on one line."""
    return str(err) if err.diagnostics else one_line(str(err))


class Backstop(click.Group):
    """The command group, and the last line of defence: no exception reaches the user as a traceback.

    FeaturesqlError is a problem with the project, its data or the run: its
    diagnostics, exit 1. Anything else is a bug of ours: one line, exit 2 (the
    traceback with FEATURESQL_DEBUG=1). click's own usage errors pass through
    (exit 2), as do exits and Ctrl-C.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except FeaturesqlError as err:
            click.echo(f"error: {error_text(err)}", err=True)
            ctx.exit(1)
        except Exception as err:
            debug = os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")
            if debug:
                click.echo(traceback.format_exc().rstrip(), err=True)
            hint = "" if debug else f" (set {DEBUG_VARIABLE}=1 for the traceback)"
            click.echo(f"featuresql: internal error: {type(err).__name__}: {one_line(str(err))}{hint}", err=True)
            ctx.exit(2)


class BadFolder(click.ClickException):
    """An output folder refused before the run starts: a usage error (exit 2), in one line."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _folder(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """An output folder's value, resolved once (absolute) and checked before anything runs."""
    if value is None:
        return None
    try:
        return output_root(value)
    except FeaturesqlError as err:
        raise BadFolder(f"{param.opts[0]} {value!r}: {err}") from None


def folder_option(*names: str, help: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option naming a folder a command writes to (see `_folder`)."""
    return click.option(*names, metavar="DIR", type=str, callback=_folder, help=help, **kwargs)


@contextmanager
def writing(folder: Path, option: str = "--out") -> Iterator[Path]:
    """Create the output folder and prove it writable before a long run; if the run
    fails, remove the folders this created that are still empty."""
    try:
        created = create_dirs(folder)
    except OSError as err:
        raise BadFolder(f"{option} {folder}: cannot create it: {os_error_text(err)}") from None
    try:
        check_writable(folder)
    except OSError as err:
        remove_empty(created)
        raise BadFolder(f"{option} {folder}: cannot write there: {os_error_text(err)}") from None
    try:
        yield folder
    except BaseException:
        remove_empty(created)
        raise


def project_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --project and --var and builds the Project (errors are the group's `Backstop`'s)."""

    @click.option("--project", "project_dir", default=".", show_default=True,
                  type=click.Path(file_okay=False, path_type=Path), help="Project directory.")
    @click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
                  help="Template variable, rendered as a quoted SQL literal (repeatable).")
    @functools.wraps(func)
    def wrapper(project_dir: Path, variables: tuple[str, ...], **kwargs: Any) -> Any:
        if not project_dir.is_dir():
            raise click.BadParameter(f"{project_dir} is not a directory", param_hint="--project")
        return func(Project(project_dir, _parse_vars(variables)), **kwargs)

    return wrapper


@click.group(cls=Backstop, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="featuresql")
def main() -> None:
    """SQL-first features and training samples: validate, compile, backfill, samples, replay."""


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@project_command
def validate(project: Project, fmt: str) -> None:
    """Check every catalog, feature and samples file; exit 1 on any error."""
    diagnostics = project.validate()
    if diagnostics or fmt == "json":
        click.echo(render(diagnostics, fmt))
    errors = sum(d.severity == "error" for d in diagnostics)
    if fmt == "text":
        counts = f"{len(project.tables)} tables, {len(project.features)} features, {len(project.samples_defs)} samples"
        click.echo(f"{errors} error(s)" if errors else f"ok: {counts}", err=bool(errors))
    sys.exit(1 if errors else 0)


@main.command("compile")
@click.argument("name")
@click.option("--target", type=click.Choice(TARGETS), default="duckdb", show_default=True,
              help="flink-stream: the job `stream` runs (stream bindings, bad records set aside; secrets masked).")
@click.option("--start", default="1970-01-01", show_default=True, help="Range start (UTC), inclusive.")
@click.option("--end", default="2100-01-01", show_default=True, help="Range end (UTC), exclusive.")
@project_command
def compile_(project: Project, name: str, target: str, start: str, end: str) -> None:
    """Print the SQL an engine runs for a feature or samples definition."""
    click.echo(project.compile(name, target, start, end), nl=False)


@main.command()
@click.argument("names", nargs=-1)
@click.option("--start", required=True, help="First event time (UTC), inclusive: YYYY-MM-DD[ HH:MM:SS].")
@click.option("--end", required=True, help="Last event time (UTC), exclusive.")
@folder_option("--out", required=True, help="Output directory (created if missing).")
@click.option("--engine", "engine_name", type=click.Choice(list(ENGINES)), default="duckdb", show_default=True,
              help="duckdb (embedded, batch) or flink (local mini-cluster, streaming with watermarks).")
@project_command
def backfill(project: Project, names: tuple[str, ...], start: str, end: str, out: Path, engine_name: str) -> None:
    """Write features' per-event update logs to OUT/features/<name>/dt=YYYY-MM-DD/."""
    began = time.perf_counter()
    with writing(out):
        summaries = project.backfill(list(names) or None, start, end, out, progress=sys.stderr.isatty(), engine_name=engine_name)
    for summary in summaries:
        click.echo(summary.describe())
    click.echo(f"backfill: {sum(s.rows for s in summaries):,} rows, {len(summaries)} features, {time.perf_counter() - began:.2f} s")


@main.command()
@click.argument("name")
@click.option("--start", required=True, help="First spine time (UTC), inclusive.")
@click.option("--end", required=True, help="Last spine time (UTC), exclusive.")
@folder_option("--out", required=True, help="Output directory (created if missing).")
@click.option("--engine", "engine_name", type=click.Choice(list(ENGINES)), default="duckdb", show_default=True,
              help="duckdb (embedded, batch) or flink (local mini-cluster, streaming with watermarks).")
@project_command
def samples(project: Project, name: str, start: str, end: str, out: Path, engine_name: str) -> None:
    """Write point-in-time training samples to OUT/samples/<name>/dt=YYYY-MM-DD/."""
    with writing(out):
        summary = project.samples(name, start, end, out, engine_name=engine_name)
    click.echo(summary.describe())


@main.command()
@click.argument("name")
@folder_option("--out", required=True, help="Output directory (created if missing).")
@click.option("--start", default="1970-01-01", show_default=True, help="Ignore events before this time (UTC).")
@click.option("--checkpoint-interval", default="10 s", show_default=True,
              help="How often output files are committed (Flink duration, e.g. '10 s').")
@click.option("--for", "duration", type=float, default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--kafka-topic", default=None,
              help="Also write to this Kafka topic, exactly once: upsert by entity for features, append for samples.")
@click.option("--kafka-bootstrap", default=None, help="Brokers for --kafka-topic; default: the source table's binding.")
@folder_option("--state", "state_dir", default=None, help="Checkpoints and savepoints (default: OUT/_state/NAME).")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint or savepoint in the state folder.")
@project_command
def stream(
    project: Project, name: str, out: Path, start: str, checkpoint_interval: str, duration: float | None,
    kafka_topic: str | None, kafka_bootstrap: str | None, state_dir: Path | None, resume: bool,
) -> None:
    """Run a feature or samples job unbounded on Flink, until Ctrl-C or SIGTERM.

    Reads what each catalog binds for streaming (a Kafka topic, or its folder,
    new files picked up). Output goes to OUT/features|samples/<name>/dt=.../
    (committed at each checkpoint), late rows to OUT/late/<name>/, bad records
    (with the reason) to OUT/rejected/<name>/<table>/. Stopping takes a
    savepoint; after a stop or a crash, --resume continues exactly where the
    committed output ends. The last line accounts for every record:
    consumed = processed + late + rejected.
    """
    from featuresql.engines.flink_stream import stream as run

    live = sys.stderr.isatty()

    def report(status: Any) -> None:
        click.echo(("\r" if live else "") + status.line(), err=True, nl=not live)

    with writing(out):
        final = run(project.plan(name), project.root, out, start, checkpoint_interval, duration=duration, report=report,
                    kafka_topic=kafka_topic, kafka_bootstrap=kafka_bootstrap, state_dir=state_dir, resume=resume)
    if live:
        click.echo("", err=True)
    if final.restored is not None:
        running = f", running after {final.running_after:.1f} s" if final.running_after is not None else ""
        click.echo(f"stream {name}: resumed from {final.restored.describe()}{running}")
    stopped = (f"savepoint {final.savepoint} (resume with --resume)" if final.savepoint
               else "cancelled: --resume continues from the last checkpoint")
    click.echo(f"stream {name}: stopped after {final.seconds:.0f} s; events {final.events:,}, late {final.late:,}, "
               f"rejected {final.rejected:,}, output rows {final.rows:,}; {stopped}")
    click.echo(final.accounting())


@main.command()
@click.argument("names", nargs=-1)
@click.option("--start", default=None, help="Slice start (UTC), inclusive; default: the last day of data.")
@click.option("--end", default=None, help="Slice end (UTC), exclusive.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Read at most the latest N events of each table in the slice (keeps verify quick).")
@project_command
def verify(project: Project, names: tuple[str, ...], start: str | None, end: str | None, limit: int | None) -> None:
    """Run DuckDB and Flink on the same slice and compare every row and column; exit 1 on any mismatch.

    Flink reads the slice's events in arrival order; DuckDB then reads the same
    events less those Flink found late (docs/semantics.md section 7).
    """
    failed = 0
    for name in names or tuple(project.feature_names + project.samples_names):
        result = project.verify(name, start, end, limit)
        click.echo(result.describe())
        failed += not result.ok
    checked = len(names) or len(project.feature_names + project.samples_names)
    click.echo(f"verify: {checked - failed} of {checked} definitions identical on DuckDB and Flink")
    sys.exit(1 if failed else 0)


@main.command("list")
@project_command
def list_(project: Project) -> None:
    """List the project's tables, features and samples."""
    for table in project.tables.values():
        click.echo(f"table    {table.name:<24} {table.file}")
    for feature in project.features.values():
        windows = ", ".join(w.name for w in feature.windows)
        click.echo(f"feature  {feature.name:<24} {feature.file}  entity ({', '.join(feature.entity)}) windows ({windows})")
    for definition in project.samples_defs.values():
        click.echo(f"samples  {definition.name:<24} {definition.file}  spine {definition.spine}")


@main.command()
def connectors() -> None:
    """List the pinned Flink connector and format jars, and whether each is cached."""
    from featuresql import connectors as jars

    click.echo(f"cache: {jars.cache_dir()}   repositories: {', '.join(jars.repositories())}")
    for capability, pinned in jars.JARS.items():
        for jar in pinned:
            state = "cached" if jars.is_cached(jar) else "missing (fetched on first use)"
            click.echo(f"{capability:<8} {jar.coordinates:<54} {state:<32} {jar.purpose}")


@main.command()
def codes() -> None:
    """List every diagnostic code."""
    for code, summary in CODES.items():
        click.echo(f"{code}  {summary}")


@main.command()
@click.option("--size", default="1m", show_default=True, help="Total events, e.g. 200k, 1m, 10m.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=7, show_default=True, type=int)
@folder_option("--out", default="data", show_default=True, help="Where the tables' Parquet files go.")
# The names of datagen.SKEWS, spelled here so `featuresql --help` does not import numpy.
@click.option("--skew", default="default", show_default=True, type=click.Choice(["default", "zipf"]),
              help="Key popularity: the default mild Zipf, or a steep hot-key Zipf (benchmarks).")
def generate(size: str, days: int, seed: int, out: Path, skew: str) -> None:
    """Generate the example project's feed data (impressions, engagements) as Parquet."""
    from featuresql.datagen import generate as run, parse_size

    try:
        events = parse_size(size)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--size") from None
    began = time.perf_counter()
    with writing(out):
        data = run(out, events=events, days=days, seed=seed, skew=skew)
    click.echo(
        f"generated {data.impressions:,} impressions and {data.engagements:,} engagements "
        f"({data.malformed} malformed) from {data.start:%Y-%m-%d} to {data.end:%Y-%m-%d} in {time.perf_counter() - began:.2f} s"
    )


@main.command()
@click.argument("tables", nargs=-1)
@click.option("--bootstrap", default=None, help="Kafka host:port[,...]; default: the catalog's 'stream.bootstrap'.")
@click.option("--rate", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Events per second; 0 = as fast as the broker takes them.")
@click.option("--speedup", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Replay event-time gaps X times faster (1 = real time).")
@click.option("--start", default=None, help="First event time (UTC), inclusive.")
@click.option("--end", default=None, help="Last event time (UTC), exclusive.")
@click.option("--limit", default=None, type=click.IntRange(min=0), help="Send at most N events (the first in time).")
@click.option("--partitions", default=1, show_default=True, type=click.IntRange(min=1),
              help="Partitions of topics that do not exist yet (created by replay).")
@project_command
def replay(project: Project, tables: tuple[str, ...], bootstrap: str | None, rate: float, speedup: float | None,
           start: str | None, end: str | None, limit: int | None, partitions: int) -> None:
    """Send catalog tables' events to their Kafka topics as JSON, merged in event-time order.

    TABLES default to every table with 'stream.connector' = 'kafka'.
    """
    from featuresql.replay import replay as run

    summary = run(project, list(tables) or None, bootstrap=bootstrap, rate=rate, speedup=speedup, start=start,
                  end=end, limit=limit, partitions=partitions, progress=sys.stderr.isatty())
    click.echo(summary.describe())
    if summary.interrupted:
        sys.exit(130)
    if summary.failed:
        sys.exit(1)


@main.command()
@click.option("--size", default="1m", show_default=True, help="Events to generate if data/ is missing.")
@folder_option("--out", default="out", show_default=True, help="Output directory.")
@click.option("--verify-limit", "verify_limit", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Events per table that `verify` reads.")
@project_command
def demo(project: Project, size: str, out: Path, verify_limit: int) -> None:
    """The whole loop on the example project: generate, validate, backfill, samples, verify."""
    from featuresql.datagen import generate as run, parse_size

    steps: list[tuple[str, float]] = []
    began = time.perf_counter()
    data = run(project.root / "data", events=parse_size(size))
    steps.append(("generate", time.perf_counter() - began))
    click.echo(f"[generate] {data.impressions:,} impressions, {data.engagements:,} engagements, {data.malformed} malformed rows")

    began = time.perf_counter()
    diagnostics = project.validate()
    steps.append(("validate", time.perf_counter() - began))
    if diagnostics:
        click.echo(render(diagnostics), err=True)
        sys.exit(1)
    click.echo(f"[validate] ok: {len(project.tables)} tables, {len(project.features)} features, {len(project.samples_defs)} samples")

    # Backfill the last day and build samples for the last two, with earlier days as history.
    start, end = data.end - timedelta(days=2), data.end
    with writing(out):
        began = time.perf_counter()
        for summary in project.backfill(None, start, end, out, progress=sys.stderr.isatty()):
            click.echo(f"[backfill] {summary.describe()}")
        steps.append(("backfill", time.perf_counter() - began))

        for name in project.samples_names:
            began = time.perf_counter()
            summary = project.samples(name, start, end, out)
            steps.append((f"samples {name}", time.perf_counter() - began))
            click.echo(f"[samples] {summary.describe()}")
    # The streaming engine against the batch one, on an hour of the last day (the
    # latest events only, so that the Flink mini-cluster finishes quickly).
    began = time.perf_counter()
    slice_start = data.end - timedelta(hours=1)
    for name in project.samples_names:
        result = project.verify(name, slice_start, data.end, limit=verify_limit)
        click.echo(f"[verify] {result.describe().splitlines()[0]}")
        if not result.ok:
            click.echo(result.describe(), err=True)
            sys.exit(1)
    steps.append(("verify", time.perf_counter() - began))
    click.echo("per-step time: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in steps))
    click.echo(f"outputs in {out}/features and {out}/samples")


if __name__ == "__main__":
    main()
