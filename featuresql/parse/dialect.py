"""The dialect project files are read with: RisingWave's, which parses Flink-style DDL.

It adds nothing to RisingWave; it exists so that the rest of the code names one
dialect. FEATURE / SAMPLES headers are not SQL to sqlglot: `featuresql.parse.header`
reads them from the tokens before the stock parser sees the rest. (Extending
sqlglot's parser by subclassing would fail under its compiled build, `sqlglotc`,
which rejects interpreted subclasses of its compiled classes.)
"""

from __future__ import annotations

from sqlglot.dialects.risingwave import RisingWave


class FeatureSQL(RisingWave):
    """The dialect every project file is read with (RisingWave's tokenizer and parser, unchanged)."""
