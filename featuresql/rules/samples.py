"""A SAMPLES definition against the rest of the project (FS101, FS109, FS121, FS122).

Its spine and label source must be catalog tables (FS101), its features
defined (FS121), every feature's keys and every label key columns of the spine
with one type on both sides (FS122), and the columns it produces unique, none
named like the day partition (FS109). The label's query goes through the same
rules as a feature's; when it passes, its plan is built here, once.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from featuresql.definitions import CatalogTable, FeatureDef, SamplesDef
from featuresql.diagnostics import Diagnostic
from featuresql.output import PARTITION_COLUMN
from featuresql.parse import ParsedFile
from featuresql.parse.header import Header, HeaderNode, Property, Word, walk
from featuresql.plan import AggregatePlan, build_plan
from featuresql.rules import check_query
from featuresql.rules.context import QueryContext
from featuresql.rules.outputs import RESERVED, check_outputs


def check_samples(
    parsed: ParsedFile,
    samples: SamplesDef,
    tables: Mapping[str, CatalogTable],
    features: Mapping[str, FeatureDef],
    plans: Mapping[str, AggregatePlan],
) -> tuple[list[Diagnostic], AggregatePlan | None]:
    """The problems of `samples` (read from `parsed`) and its label's plan (None without a
    label, or when the label has problems). `tables`, `features` and `plans` are the
    project's, by lowered name."""
    header = parsed.statements[0]
    assert isinstance(header, Header)

    def at(prop_name: str, value: str | None = None) -> HeaderNode:
        """Where to point: the word `value` inside the header property, else the property, else the header."""
        for prop in header.items:
            if isinstance(prop, Property) and prop.key.text.lower() == prop_name:
                if value is None:
                    return prop
                for node in walk(prop.value):
                    if isinstance(node, Word) and node.text.lower() == value.lower():
                        return node
                return prop
        return header

    problems: list[Diagnostic] = []
    spine = tables.get(samples.spine.lower())
    if spine is None:
        problems.append(parsed.diagnostic(at("spine", samples.spine), "FS101",
            f"unknown spine table {samples.spine}: no catalogs/*.sql declares it"))
    seen_columns: dict[str, str] = {c.name.lower(): f"spine {samples.spine}" for c in spine.columns} if spine else {}
    if PARTITION_COLUMN in seen_columns:
        problems.append(parsed.diagnostic(at("spine", samples.spine), "FS109", RESERVED + f" (spine {samples.spine} has it)"))
    for name in samples.features:
        feature = features.get(name.lower())
        if feature is None:
            known = ", ".join(sorted(f.name for f in features.values())) or "none"
            problems.append(parsed.diagnostic(at("features", name), "FS121", f"unknown feature {name} (known: {known})"))
            continue
        if spine is not None:
            source = tables.get(feature.source.lower())
            for key in feature.entity:
                spine_column = spine.column(key)
                source_column = source.column(key) if source is not None else None
                if spine_column is None:
                    problems.append(parsed.diagnostic(at("features", name), "FS122",
                        f"feature {name} is keyed by {key}, which spine {spine.name} does not have"))
                elif source is not None and source_column is not None and not same_key_type(spine_column.type, source_column.type):
                    problems.append(parsed.diagnostic(at("features", name), "FS122",
                        f"key {key} is {spine_column.type.sql()} in spine {spine.name} but "
                        f"{source_column.type.sql()} in {source.name}: keys must have one type to match"))
        plan = plans.get(name.lower())
        for column in plan.output_columns if plan else []:
            if column.lower() in seen_columns:
                problems.append(parsed.diagnostic(at("features", name), "FS109",
                    f"column {column} of feature {name} is also produced by {seen_columns[column.lower()]}"))
            seen_columns.setdefault(column.lower(), f"feature {feature.name}")
    label = samples.label
    if label is None:
        return problems, None
    table = tables.get(label.source.lower())
    ctx = QueryContext(parsed, label.query, table, label.keys, "label")
    label_problems = check_query(ctx) + check_outputs(ctx)
    if table is None:
        label_problems.append(parsed.diagnostic(at("label", label.source), "FS101",
            f"unknown label source {label.source}: no catalogs/*.sql declares it"))
    if spine is not None:
        group = label.query.args["group"]
        for node in group.expressions:
            if not isinstance(node, exp.Column):
                continue
            spine_column = spine.column(node.name)
            label_column = table.column(node.name) if table is not None else None
            if spine_column is None:
                label_problems.append(parsed.diagnostic(node, "FS122",
                    f"label key {node.name} is not a column of spine {spine.name}"))
            elif table is not None and label_column is not None and not same_key_type(spine_column.type, label_column.type):
                label_problems.append(parsed.diagnostic(node, "FS122",
                    f"label key {node.name} is {spine_column.type.sql()} in spine {spine.name} but "
                    f"{label_column.type.sql()} in {table.name}: keys must have one type to match"))
    problems.extend(label_problems)
    if label_problems or table is None:
        return problems, None
    label_plan = build_plan(ctx, samples.name, (label.horizon,), suffix_windows=False)
    for column in label_plan.output_columns:
        if column.lower() in seen_columns:
            problems.append(parsed.diagnostic(label.query, "FS109",
                f"label column {column} is also produced by {seen_columns[column.lower()]}"))
    return problems, label_plan


def same_key_type(a: exp.DataType, b: exp.DataType) -> bool:
    """Keys match when both are text, both integers, or the same type otherwise."""
    for family in (exp.DataType.TEXT_TYPES, exp.DataType.INTEGER_TYPES):
        if a.is_type(*family) or b.is_type(*family):
            return a.is_type(*family) and b.is_type(*family)
    return a.this == b.this
