"""Seeded mutations of one project file, for the validator fuzz test (issue 14).

`mutate(text, seed, donors)` returns a mutant of `text` and a one-line
description of each operation applied. Everything is drawn from
`random.Random(seed)`, so a mutant is reproduced exactly by (seed, text): a
fuzz case is named by (seed, file) and nothing else.

Two families of operations:

- character level: delete, duplicate, swap or truncate spans; insert tokens of
  a SQL / Jinja / featuresql-header vocabulary; insert odd characters (NUL,
  BOM, `\\r`, U+2028, U+0085, ...); change the file's line endings; nest
  parentheses or function calls hundreds deep; splice in text of another file;
- token level (a small regex tokenizer, so it works on any text): delete,
  duplicate, replace or swap tokens, and swap numbers and durations for edge
  values (negative, zero, huge: `3000000d`, `106751991167d`).

A few mutants are bytes, not text: invalid UTF-8 reaches the file reader.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

#: Tokens a careless or hostile author might type: SQL, Jinja, the featuresql
#: headers, and spellings known to have broken a part of the validator.
VOCABULARY: tuple[str, ...] = (
    "(", ")", ",", ";", "'", '"', "`", "--", "/*", "*/", ".", "*", "-", "+", "/", "%", "=", "<>", "!=",
    "<", ">", "||", "::", ":", "?", "$", "@", "#", "[", "]", "{", "}", "\\",
    "{{", "}}", "{%", "%}", "{#", "#}", "{{ x }}", "{{ count_action('click') }}", "{{ count_action() }}",
    "{% if true %}", "{% endif %}", "{% for i in range(3) %}", "{% endfor %}", "{% raw %}", "{% endraw %}",
    "{% macro m() %}", "{% endmacro %}", "{% set x = 1 %}", "{{ 7 * 7 }}", "{{ '(' }}",
    "FEATURE", "SAMPLES", "FEATURE f (", "SAMPLES s (", "entity", "entity (", "windows (", "windows",
    "lifetime", "description", "spine", "features (", "label (", "source", "horizon", "horizon 10m",
    "SELECT", "FROM", "WHERE", "GROUP BY", "HAVING", "ORDER BY", "LIMIT 1", "JOIN", "UNION ALL", "DISTINCT",
    "AS", "AND", "OR", "NOT", "NULL", "TRUE", "IN (", "IS NULL", "BETWEEN", "CASE WHEN", "THEN", "ELSE", "END",
    "OVER (PARTITION BY user_id)", "WITH", "CAST(", "AS BIGINT", "INTERVAL '5' SECOND", "TIMESTAMP(3)",
    "COUNT(*)", "COUNT(DISTINCT)", "COUNT(DISTINCT x)", "COUNT()", "SUM(", "AVG(", "MIN(", "MAX(", "ABS(",
    "FILTER (WHERE", "FILTER (WHERE action = 'click')", "NULLIF(", "AS_OF()", "SECONDS_SINCE(", "RANDOM()",
    "NOW()", "CURRENT_TIMESTAMP", "SELECT 1", "(SELECT 1)",
    "CREATE TABLE", "CREATE TABLE t (x INT);", "WATERMARK FOR", "WATERMARK FOR event_time AS event_time",
    "WITH (", "'path' = ", "'format' = 'csv'", "'label_columns' = 'action'", "'stream.connector' = 'kafka'",
    "'stream.topic' = ''", "'stream.password' = 'x'", "'stream.bogus' = '1'", "PRIMARY KEY",
    "user_id", "post_id", "author_id", "action", "dwell_ms", "event_time", "impressions", "engagements",
    "dt", "__asof", "user_engagement", "ctr",
    "0", "-1", "1e309", "9223372036854775807", "3000000d", "106751991167d", "-10m", "0s", "1.5h",
    "'unterminated", "'a''b'", '"quoted id"', "E'\\n'", "$$x$$", "'\n'", "'\r'",
    "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x00", "\ufeff", "\t", "\u200b", "\U0001f600",
    "e\u0301", "\ud7ff", "\uffff",
)

#: Characters that are line breaks to someone (an editor, `str.splitlines`, sqlglot) but not to all.
ODD_CHARACTERS: tuple[str, ...] = (
    "\x00", "\ufeff", "\r", "\r\n", "\n\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e",
    "\t", "\u200b", "\u00a0", "\U0001f600", "\u0301", "\x7f", "\x1b",
)

#: Replacements for numbers and durations: the edges of every range a window, horizon or literal has.
EDGE_NUMBERS: tuple[str, ...] = (
    "0", "-0", "-1", "1", "00", "01", "1.5", ".5", "1e3", "1e309", "-1e309", "0x10",
    "2147483648", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1" + "0" * 40,
    "0s", "0m", "-10m", "1ms", "1w", "1y", "10M", "1.5h", "1e3s", "59s", "86400s",
    "3000000d", "106751991167d", "99999999999999999999d", "2147483648s", "9223372036854775807ms",
)

#: Words that fit where a word was: columns, tables, definitions, functions, header
#: keywords and window spellings. Swapping one for another often keeps a file valid,
#: which is how a mutant gets past validate and into compile.
PLAUSIBLE_WORDS: tuple[str, ...] = (
    "user_id", "post_id", "author_id", "action", "dwell_ms", "event_time", "position", "impression_id",
    "engagements", "impressions", "user_engagement", "user_exposure", "post_popularity", "author_reach",
    "user_author_affinity", "ctr", "COUNT", "SUM", "AVG", "MIN", "MAX", "ABS", "NULLIF", "COALESCE", "AS_OF",
    "SECONDS_SINCE", "DISTINCT", "FILTER", "WHERE", "AND", "OR", "NOT", "NULL", "entity", "windows", "lifetime",
    "description", "spine", "features", "label", "source", "horizon", "VARCHAR", "BIGINT", "INT", "DOUBLE",
    "BOOLEAN", "TIMESTAMP", "DATE", "SECOND", "MINUTE", "HOUR", "DAY",
    "10m", "1h", "1d", "7d", "30d", "365d", "1s", "0s", "3000000d",
)

#: Line endings a file may be saved with; the first is the repository's.
LINE_ENDINGS: tuple[str, ...] = ("\r\n", "\r", "\u2028", "\x85", "\n\r")

#: Nesting depths: fine, near the recursion limit, past it.
DEPTHS: tuple[int, ...] = (50, 300, 490, 600, 1000, 3000)

#: Byte sequences that are not UTF-8.
BAD_BYTES: tuple[bytes, ...] = (b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xe2\x82", b"\xc0\xaf")

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<comment>--[^\n]*|/\*.*?\*/)
      | (?P<jinja>\{\{.*?\}\}|\{%.*?%\}|\{\#.*?\#\})
      | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<number>\d+(?:\.\d+)?[A-Za-z]*)
      | (?P<word>\w+)
      | (?P<other>.)""",
    re.S | re.X,
)

Mutation = Callable[[str, random.Random, Sequence[str]], tuple[str, str]]


def tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every token but whitespace; the regex covers any text."""
    return [(m.start(), m.end(), m.lastgroup or "other") for m in _TOKEN.finditer(text) if m.lastgroup != "space"]


def _show(text: str, limit: int = 40) -> str:
    shown = repr(text[:limit])
    return shown + (f"+{len(text) - limit} chars" if len(text) > limit else "")


def _span(text: str, rng: random.Random) -> tuple[int, int]:
    # Mostly short spans: a short change leaves most of the file meaningful, so the
    # validator gets past the parser and into the rules.
    start = rng.randrange(len(text) + 1)
    length = min(int(rng.expovariate(1 / 8)) + 1, len(text) - start)
    return start, start + length


def _position(text: str, rng: random.Random) -> int:
    # Half the time at a token boundary, where an insertion makes a new token
    # instead of changing an old one.
    found = tokens(text)
    if found and rng.random() < 0.5:
        start, end, _ = rng.choice(found)
        return rng.choice((start, end))
    return rng.randrange(len(text) + 1)


def delete_span(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    start, end = _span(text, rng)
    return text[:start] + text[end:], f"delete {_show(text[start:end])} at {start}"


def duplicate_span(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    start, end = _span(text, rng)
    times = rng.choice((1, 1, 2, 10))
    return text[:end] + text[start:end] * times + text[end:], f"repeat {_show(text[start:end])} x{times} at {end}"


def swap_spans(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    (a0, a1), (b0, b1) = sorted((_span(text, rng), _span(text, rng)))
    if b0 < a1:  # overlapping spans: nothing sensible to swap
        return text, "swap (overlapping spans: no change)"
    swapped = text[:a0] + text[b0:b1] + text[a1:b0] + text[a0:a1] + text[b1:]
    return swapped, f"swap {_show(text[a0:a1])} at {a0} with {_show(text[b0:b1])} at {b0}"


def truncate(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    at = rng.randrange(len(text) + 1)
    return text[:at], f"truncate at {at}"


def insert_vocabulary(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    at = _position(text, rng)
    word = rng.choice(VOCABULARY)
    if rng.random() < 0.5:
        word = rng.choice(("", " ")) + word + rng.choice(("", " "))
    return text[:at] + word + text[at:], f"insert {word!r} at {at}"


def insert_odd_character(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    at = rng.randrange(len(text) + 1)
    char = rng.choice(ODD_CHARACTERS)
    return text[:at] + char + text[at:], f"insert {char!r} at {at}"


def change_line_endings(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    ending = rng.choice(LINE_ENDINGS)
    if rng.random() < 0.5:
        return text.replace("\n", ending), f"every line ending -> {ending!r}"
    lines = text.split("\n")
    if len(lines) < 2:
        return text, "one line ending (none in file: no change)"
    which = rng.randrange(len(lines) - 1)
    joined = "\n".join(lines[: which + 1]) + ending + "\n".join(lines[which + 1 :])
    return joined, f"line ending {which + 1} -> {ending!r}"


def nest(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    depth = rng.choice(DEPTHS)
    opener = rng.choice(("(", "(", "ABS(", "-", "NOT ", "COALESCE(", "((SELECT "))
    closer = {"(": ")", "ABS(": ")", "COALESCE(": ")", "-": "", "NOT ": "", "((SELECT ": "))"}[opener]
    found = [t for t in tokens(text) if t[2] in ("word", "number", "string")]
    if not found or rng.random() < 0.25:  # unbalanced: openers only
        at = _position(text, rng)
        return text[:at] + opener * depth + text[at:], f"insert {opener!r} x{depth} at {at}"
    # Balanced around one token, or around a call `name(...)` when the token is a function name.
    start, end, _ = rng.choice(found)
    if text[end : end + 1] == "(":
        end = _matching_paren(text, end)
    wrapped = opener * depth + text[start:end] + closer * depth
    return text[:start] + wrapped + text[end:], f"wrap {_show(text[start:end])} at {start} in {opener!r} x{depth}"


def _matching_paren(text: str, open_at: int) -> int:
    """The index after the `)` that closes `text[open_at]`, or the end of the text."""
    depth = 0
    for index in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return len(text)


def splice_donor(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    if not donors:
        return text, "splice (no donor: no change)"
    donor = rng.choice(donors)
    start, end = _span(donor, rng)
    end = min(len(donor), start + int(rng.expovariate(1 / 60)) + 1)
    at = _position(text, rng)
    return text[:at] + donor[start:end] + text[at:], f"splice {_show(donor[start:end])} at {at}"


def _token_op(text: str, rng: random.Random, donors: Sequence[str], op: str) -> tuple[str, str]:
    found = tokens(text)
    if not found:
        return text, f"token {op} (no tokens: no change)"
    index = rng.randrange(len(found))
    start, end, kind = found[index]
    old = text[start:end]
    if op == "delete":
        return text[:start] + text[end:], f"delete token {_show(old)} at {start}"
    if op == "duplicate":
        return text[:end] + " " + old + text[end:], f"duplicate token {_show(old)} at {start}"
    if op == "swap" and index + 1 < len(found):
        n0, n1, _ = found[index + 1]
        new = text[:start] + text[n0:n1] + text[end:n0] + old + text[n1:]
        return new, f"swap tokens {_show(old)} and {_show(text[n0:n1])} at {start}"
    # replace: by another token of the file (keeps the text plausible) or a vocabulary token
    if rng.random() < 0.5:
        o0, o1, _ = rng.choice(found)
        new_token = text[o0:o1]
    else:
        new_token = rng.choice(VOCABULARY)
    return text[:start] + new_token + text[end:], f"replace token {_show(old)} at {start} with {_show(new_token)}"


def token_delete(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    return _token_op(text, rng, donors, "delete")


def token_duplicate(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    return _token_op(text, rng, donors, "duplicate")


def token_replace(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    return _token_op(text, rng, donors, "replace")


def token_swap(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    return _token_op(text, rng, donors, "swap")


def edge_number(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    found = [t for t in tokens(text) if t[2] == "number"]
    number = rng.choice(EDGE_NUMBERS)
    if not found:
        at = _position(text, rng)
        return text[:at] + number + text[at:], f"insert {number!r} at {at}"
    start, end, _ = rng.choice(found)
    return text[:start] + number + text[end:], f"replace number {text[start:end]!r} at {start} with {number!r}"


def plausible_word(text: str, rng: random.Random, donors: Sequence[str]) -> tuple[str, str]:
    found = [t for t in tokens(text) if t[2] in ("word", "number")]
    word = rng.choice(PLAUSIBLE_WORDS)
    if not found:
        return text + word, f"append {word!r}"
    start, end, _ = rng.choice(found)
    return text[:start] + word + text[end:], f"replace word {text[start:end]!r} at {start} with {word!r}"


#: Every operation, with its weight: token-level and vocabulary insertions most
#: often, since they keep a file close enough to valid to reach the rules.
MUTATIONS: tuple[tuple[Mutation, int], ...] = (
    (delete_span, 6),
    (duplicate_span, 4),
    (swap_spans, 3),
    (truncate, 1),
    (insert_vocabulary, 14),
    (insert_odd_character, 5),
    (change_line_endings, 3),
    (nest, 2),
    (splice_donor, 3),
    (token_delete, 8),
    (token_duplicate, 5),
    (token_replace, 12),
    (token_swap, 4),
    (edge_number, 6),
    (plausible_word, 10),
)

#: How many operations one mutant gets: mostly one or two.
OPERATION_COUNTS: tuple[int, ...] = (1, 1, 1, 1, 2, 2, 2, 3, 4, 6)


def mutate(text: str, seed: int, donors: Sequence[str] = ()) -> tuple[str | bytes, list[str]]:
    """A mutant of `text` drawn from `random.Random(seed)`, and what was done to it.

    Args:
        text: the file's original text.
        seed: the case's seed; the same (seed, text, donors) always give the same mutant.
        donors: other files' texts, for splicing.

    Returns:
        The mutant (bytes when it is not valid UTF-8, else text) and one description per operation.
    """
    rng = random.Random(seed)
    operations, weights = zip(*MUTATIONS)
    done = []
    for _ in range(rng.choice(OPERATION_COUNTS)):
        operation = rng.choices(operations, weights)[0]
        text, description = operation(text, rng, donors)
        done.append(description)
    if rng.random() < 0.01:
        encoded = text.encode("utf-8")
        at = rng.randrange(len(encoded) + 1)
        bad = rng.choice(BAD_BYTES)
        done.append(f"insert bytes {bad!r} at byte {at}")
        return encoded[:at] + bad + encoded[at:], done
    return text, done
