"""Interpret FEATURE / SAMPLES headers into definitions, with diagnostics.

`featuresql.parse.header` accepts any header property shape; this module
decides what each property means and reports misspellings with positions.
"""

from __future__ import annotations

from sqlglot import exp

from featuresql.definitions import FeatureDef, LabelDef, SamplesDef
from featuresql.diagnostics import Diagnostic
from featuresql.parse import ParsedFile
from featuresql.parse.header import Duration, Group, Header, Item, Property, Text, Value, Word, header_sql
from featuresql.timeutil import Window, parse_duration, parse_window

FEATURE_PROPERTIES = ("entity", "windows", "description")
SAMPLES_PROPERTIES = ("spine", "features", "label", "description")
LABEL_PROPERTIES = ("source", "horizon")


def split_file(parsed: ParsedFile, kind: str) -> tuple[Header | None, exp.Select | None, list[Diagnostic]]:
    """A definition file is one header followed by at most one SELECT."""
    statements = list(parsed.statements)
    header = statements[0] if statements else None
    if not isinstance(header, Header) or header.kind != kind:
        return None, None, [parsed.diagnostic(header, "FS003", f"a {kind.lower()} file starts with `{kind} name (...);`")]
    rest = statements[1:]
    if len(rest) > 1:
        return header, None, [parsed.diagnostic(rest[1], "FS003", f"a {kind.lower()} file holds one query after its header")]
    query = rest[0] if rest else None
    if query is not None and not isinstance(query, exp.Select):
        return header, None, [parsed.diagnostic(query, "FS003", "the query must be a plain SELECT ... FROM ... GROUP BY ...")]
    return header, query, []


def _properties(
    parsed: ParsedFile, items: tuple[Item, ...], known: tuple[str, ...], where: str
) -> tuple[dict[str, Property], list[Diagnostic]]:
    found: dict[str, Property] = {}
    diagnostics: list[Diagnostic] = []
    for item in items:
        if not isinstance(item, Property):
            diagnostics.append(parsed.diagnostic(item, "FS120", f"expected `key value` in {where} (keys: {', '.join(known)})"))
            continue
        key = item.key.text.lower()
        if key not in known:
            diagnostics.append(parsed.diagnostic(item, "FS120", f"unknown {where} property '{item.key.text}' (known: {', '.join(known)})"))
        elif key in found:
            diagnostics.append(parsed.diagnostic(item, "FS120", f"{where} property '{key}' is given twice"))
        else:
            found[key] = item
    return found, diagnostics


def _names(value: Value) -> tuple[Item, ...]:
    return value.items if isinstance(value, Group) else (value,)


def _spelling(node: Item) -> str:
    """What a window or horizon value says: a duration or word as written, anything else as text."""
    return node.text if isinstance(node, (Duration, Word)) else header_sql(node)


def _identifiers(parsed: ParsedFile, prop: Property, what: str) -> tuple[tuple[str, ...], list[Diagnostic]]:
    names: list[str] = []
    diagnostics: list[Diagnostic] = []
    for node in _names(prop.value):
        if isinstance(node, Word):
            names.append(node.text)
        else:
            diagnostics.append(parsed.diagnostic(node, "FS120", f"{prop.key.text} takes {what}"))
    return tuple(names), diagnostics


def _string(parsed: ParsedFile, prop: Property | None) -> tuple[str, list[Diagnostic]]:
    if prop is None:
        return "", []
    if isinstance(prop.value, Text):
        return prop.value.value, []
    return "", [parsed.diagnostic(prop.value, "FS120", f"{prop.key.text} takes a 'quoted string'")]


def _windows(parsed: ParsedFile, prop: Property) -> tuple[tuple[Window, ...], list[Diagnostic]]:
    windows: list[Window] = []
    diagnostics: list[Diagnostic] = []
    for node in _names(prop.value):
        text = _spelling(node)
        if isinstance(node, Duration) and node.negative:
            diagnostics.append(parsed.diagnostic(
                node, "FS111", f"window -{text} looks into the future: windows are positive lengths before the as-of time"
            ))
            continue
        try:
            window = parse_window(text)
        except ValueError as err:
            diagnostics.append(parsed.diagnostic(node, "FS106", f"bad window: {err}"))
            continue
        if any(w.name == window.name or (w.millis == window.millis) for w in windows):
            diagnostics.append(parsed.diagnostic(node, "FS106", f"window {text} is listed twice"))
            continue
        windows.append(window)
    if not windows and not diagnostics:
        diagnostics.append(parsed.diagnostic(prop, "FS106", "windows lists no window"))
    return tuple(windows), diagnostics


def source_table(parsed: ParsedFile, query: exp.Select) -> tuple[str, list[Diagnostic]]:
    """The single catalog table a definition reads (joins and subqueries are not supported)."""
    from_ = query.args.get("from_")
    table = from_.this if from_ else None
    if not isinstance(table, exp.Table) or query.args.get("joins") or not table.name:
        return "", [parsed.diagnostic(from_ or query, "FS113", "read one catalog table: FROM <table> (joins and subqueries are not supported)")]
    return table.name, []


def load_feature(parsed: ParsedFile) -> tuple[FeatureDef | None, list[Diagnostic]]:
    """Interpret a feature file's header and query (query checks live in `rules`)."""
    header, query, diagnostics = split_file(parsed, "FEATURE")
    if header is None:
        return None, diagnostics
    if query is None and not diagnostics:
        diagnostics.append(parsed.diagnostic(header, "FS003", "a feature file needs a SELECT ... GROUP BY <entity> after its header"))
    props, prop_diags = _properties(parsed, header.items, FEATURE_PROPERTIES, "FEATURE")
    diagnostics += prop_diags
    entity: tuple[str, ...] = ()
    windows: tuple[Window, ...] = ()
    if "entity" not in props:
        diagnostics.append(parsed.diagnostic(header, "FS120", "FEATURE needs `entity <column>` or `entity (<col>, <col>)`"))
    else:
        entity, more = _identifiers(parsed, props["entity"], "column names")
        diagnostics += more
    if "windows" not in props:
        diagnostics.append(parsed.diagnostic(header, "FS120", "FEATURE needs `windows (10m, 1h, lifetime)`"))
    else:
        windows, more = _windows(parsed, props["windows"])
        diagnostics += more
    description, more = _string(parsed, props.get("description"))
    diagnostics += more
    source = ""
    if query is not None:
        source, more = source_table(parsed, query)
        diagnostics += more
    if query is None or not source:
        return None, diagnostics
    # Returned even when the header has problems, so the query is still checked
    # (all errors at once) and samples that use the feature see that it exists.
    return FeatureDef(header.name.text, parsed.source.path, entity, windows, description, query, source), diagnostics


def load_samples(parsed: ParsedFile) -> tuple[SamplesDef | None, list[Diagnostic]]:
    """Interpret a samples file's header and its optional label query."""
    header, query, diagnostics = split_file(parsed, "SAMPLES")
    if header is None:
        return None, diagnostics
    props, prop_diags = _properties(parsed, header.items, SAMPLES_PROPERTIES, "SAMPLES")
    diagnostics += prop_diags
    spine = ""
    if "spine" not in props:
        diagnostics.append(parsed.diagnostic(header, "FS120", "SAMPLES needs `spine <catalog table>`"))
    else:
        names, more = _identifiers(parsed, props["spine"], "one catalog table")
        diagnostics += more
        spine = names[0] if len(names) == 1 else ""
        if len(names) > 1:
            diagnostics.append(parsed.diagnostic(props["spine"], "FS120", "spine takes one catalog table"))
    features: tuple[str, ...] = ()
    if "features" in props:
        features, more = _identifiers(parsed, props["features"], "feature names")
        diagnostics += more
    description, more = _string(parsed, props.get("description"))
    diagnostics += more

    label: LabelDef | None = None
    if "label" in props:
        label, more = _label(parsed, props["label"], query)
        diagnostics += more
    elif query is not None:
        diagnostics.append(parsed.diagnostic(query, "FS003", "a query after SAMPLES defines the label: add `label (source <table>, horizon 10m)`"))
    if diagnostics:
        return None, diagnostics
    return SamplesDef(header.name.text, parsed.source.path, spine, features, label, description), []


def _label(parsed: ParsedFile, prop: Property, query: exp.Select | None) -> tuple[LabelDef | None, list[Diagnostic]]:
    items = _names(prop.value)
    props, diagnostics = _properties(parsed, items, LABEL_PROPERTIES, "label")
    source = ""
    if "source" not in props:
        diagnostics.append(parsed.diagnostic(prop, "FS120", "label needs `source <catalog table>`"))
    else:
        names, more = _identifiers(parsed, props["source"], "one catalog table")
        diagnostics += more
        source = names[0] if names else ""
    horizon: Window | None = None
    if "horizon" not in props:
        diagnostics.append(parsed.diagnostic(prop, "FS107", "label needs `horizon <n>s|m|h|d`, e.g. horizon 10m"))
    else:
        node = props["horizon"].value
        text = _spelling(node)
        if isinstance(node, Duration) and node.negative:
            diagnostics.append(parsed.diagnostic(node, "FS107", f"horizon -{text} must be positive: labels look forward"))
        else:
            try:
                horizon = Window(text, parse_duration(text))
            except ValueError as err:
                diagnostics.append(parsed.diagnostic(node, "FS107", f"bad horizon: {err}"))
    if query is None:
        diagnostics.append(parsed.diagnostic(prop, "FS003", "a label needs a query after the header: SELECT <aggregate> AS <name> FROM <source> GROUP BY <keys>"))
        return None, diagnostics
    table, more = source_table(parsed, query)
    diagnostics += more
    if table and source and table.lower() != source.lower():
        diagnostics.append(parsed.diagnostic(query.args["from_"], "FS120", f"the label query reads {table} but label source is {source}"))
    group = query.args.get("group")
    keys = tuple(e.name for e in group.expressions if isinstance(e, exp.Column)) if group else ()
    if not keys:
        diagnostics.append(parsed.diagnostic(query, "FS105", "a label query needs GROUP BY <spine key columns>"))
    if diagnostics or horizon is None:
        return None, diagnostics
    return LabelDef(source, horizon, keys, query), []
