"""Compile plans to engine SQL. One module per engine; templates hold the SQL shape."""

#: How each measure function of the plan is written as a window aggregate. The
#: spelling is the same in DuckDB and Flink; what differs is the frame around it.
AGGREGATE_CALLS: dict[str, str] = {
    "count": "COUNT({x})",
    "count_distinct": "COUNT(DISTINCT {x})",
    "sum": "SUM({x})",
    "avg": "AVG({x})",
    "min": "MIN({x})",
    "max": "MAX({x})",
}
