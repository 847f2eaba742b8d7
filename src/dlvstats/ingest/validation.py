"""The loader's validation and conversion rules, as SQL generated from ``dlvstats.ingest.schema``.

Each staged VARCHAR column is trimmed once and converted once per row (``converted``), and each row
gets the reasons it is bad (``reason_parts``), in one SELECT (``conversion_sql``); ``event_key_sql``
is the deduplication key of the event kinds. Identifiers come only from the fixed schema; values
are bound as parameters. Callable by any engine that runs the same SQL (DuckDB here; the Spark
ingest reuses the rules).

This module must not execute anything: it returns SQL text.
"""

from __future__ import annotations

from dlvstats.ingest.schema import EVENT_KEY_PARTS, KINDS

#: A decimal written with a comma: '12,50', '-3,5', '1 234,50' (space/NBSP groups), '1.234,50'.
#: A value with only a dot ('12.50', '1.234') keeps the dot as the decimal mark.
_DECIMAL_COMMA = (
    "[+-]?[0-9]+,[0-9]+|[+-]?[0-9]{1,3}([ \u00a0\u202f][0-9]{3})+(,[0-9]+)?|[+-]?[0-9]{1,3}(\\.[0-9]{3})+,[0-9]+"
)


def trimmed_name(col) -> str:
    return f'"__v_{col.name}"'


def converted(col, fmt_param: str | None = None, decimal_comma: bool = False) -> str:
    """The SQL converting a staged VARCHAR column, from its trimmed value (``__v_<name>``, NULL when
    empty). ``fmt_param`` names a prepared parameter holding strptime patterns (VARCHAR[]) for
    timestamps that are not ISO 8601; ``decimal_comma`` accepts '12,50' in decimal columns.
    Identifiers come from the fixed schema only."""
    v = trimmed_name(col)
    if col.type == "timestamp":
        # A timestamp with Z or an offset keeps it; a naive one is read in the session TimeZone
        # (the drop's --timezone). Pure numbers (epoch seconds) are refused by the spec. With a
        # date format, ISO 8601 is tried first, then the format(s).
        # A date without a time of day (2026-11-01, 01/11/2026) names a calendar day, not an
        # instant: it is kept as 12:00 UTC of that day, so that the day stays the same in every
        # reporting time zone from UTC-11 to UTC+12 (midnight in --timezone fell on the
        # previous day in UTC).
        parsed = f"try_cast({v} AS TIMESTAMPTZ)"
        day = f"try_cast({v} AS DATE)"
        if fmt_param:
            parsed = f"coalesce({parsed}, try_strptime({v}, ${fmt_param}::VARCHAR[])::TIMESTAMPTZ)"
            day = f"coalesce({day}, try_strptime({v}, ${fmt_param}::VARCHAR[])::DATE)"
        return (
            f"CASE WHEN regexp_full_match({v}, '[0-9]+(\\.[0-9]+)?') THEN NULL "
            f"WHEN NOT regexp_matches({v}, '[0-9]\\s*[:hHT]\\s*[0-9]') AND {day} IS NOT NULL "
            f"THEN {day}::TIMESTAMP + INTERVAL 12 HOUR "
            f"ELSE timezone('UTC', {parsed}) END"
        )
    if col.type == "boolean":
        return (
            f"CASE WHEN lower({v}) IN ('true','t','1','yes','y') THEN true "
            f"WHEN lower({v}) IN ('false','f','0','no','n') THEN false END"
        )
    if col.type == "integer":
        return f"try_cast({v} AS INTEGER)"
    if col.type == "decimal":
        if decimal_comma:
            return (
                f"try_cast(CASE WHEN regexp_full_match({v}, '{_DECIMAL_COMMA}') THEN "
                f"replace(regexp_replace({v}, '[ .\u00a0\u202f]', '', 'g'), ',', '.') ELSE {v} END "
                f"AS DECIMAL(18, 4))"
            )
        return f"try_cast({v} AS DECIMAL(18, 4))"
    if col.type == "recipient":
        return f"CASE WHEN regexp_full_match(lower({v}), '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN lower({v}) END"
    if col.enum:
        return f"CASE WHEN lower({v}) IN ({', '.join(repr(e) for e in col.enum)}) THEN lower({v}) END"
    return v


_TYPE_WORDS = {
    "timestamp": "an ISO 8601 timestamp (epoch numbers are not accepted; for layouts like "
    "27/11/2026 14:03 pass --date-format)",
    "boolean": "true/false",
    "integer": "a whole number",
    "decimal": "a decimal number with a dot (for 12,50 pass --decimal-comma)",
    "recipient": "an e-mail address",
}


def type_words(col, fmt_param, decimal_comma) -> str | None:
    if col.type == "timestamp" and fmt_param:
        return "an ISO 8601 timestamp or a date in the --date-format layout"
    if col.type == "decimal" and decimal_comma:
        return "a decimal number (12.50 or 12,50)"
    return _TYPE_WORDS.get(col.type)


def reason_parts(kind: str, fmt_param: str | None = None, decimal_comma: bool = False) -> list[str]:
    """Why a row is bad, from its trimmed values (``__v_<name>``) and converted values (``<name>``):
    each value is trimmed once and converted once per row."""
    spec = KINDS[kind]
    parts = ["__error"]
    for col in spec.columns:
        v = trimmed_name(col)
        if col.required:
            parts.append(f"CASE WHEN {v} IS NULL THEN 'missing required value for {col.name}' END")
        expected = (
            f"one of {', '.join(col.enum)}" if col.enum else type_words(col, fmt_param, decimal_comma)
        )
        if expected:
            parts.append(
                f'CASE WHEN {v} IS NOT NULL AND "{col.name}" IS NULL THEN '
                f"'{col.name}: ' || to_json(left({v}, 60))::VARCHAR || ' is not {expected}' END"
            )
    for col in spec.columns:
        if col.type == "varchar" and col.name.endswith("_id"):
            # Excel shows long numeric ids as 1,23457E+16 and saves them so: the digits are lost and
            # distinct ids become equal (they would be merged as duplicates). Refused, never guessed.
            v = trimmed_name(col)
            parts.append(
                f"CASE WHEN regexp_full_match(coalesce({v}, ''), '[+-]?[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+') THEN "
                f"'{col.name}: ' || to_json(left({v}, 60))::VARCHAR || ' is a number in scientific notation, "
                f"as Excel writes long ids it has rounded (the digits are lost, distinct ids would merge): "
                f"export the file again without opening it in Excel, or format the column as Text' END"
            )
    if spec.one_of:
        present = " OR ".join(f'"__v_{c}" IS NOT NULL' for c in spec.one_of)
        parts.append(f"CASE WHEN NOT ({present}) THEN 'needs at least one of {', '.join(spec.one_of)}' END")
    if kind == "sends":
        parts.append(
            "CASE WHEN lower(\"__v_status\") = 'bounced' AND \"__v_bounce_class\" IS NULL "
            "THEN 'bounce_class is required when status is bounced' END"
        )
    return parts


def trimmed_value(column: str) -> str:
    """``NULLIF(trim(column), '')``, with trim skipped for the usual value that needs none (ASCII,
    no space at either end; trim also removes Unicode spaces such as NBSP): a third of the cost of
    converting a big file was trimming values that needed no trimming."""
    c = f'"{column}"'
    return (f"CASE WHEN starts_with({c}, ' ') OR ends_with({c}, ' ') OR strlen({c}) <> length({c}) "
            f"THEN NULLIF(trim({c}), '') ELSE NULLIF({c}, '') END")


def conversion_sql(kind: str, staged_table: str, fmt_param: str | None = None, decimal_comma: bool = False) -> str:
    spec = KINDS[kind]
    names = ", ".join(f'"{c.name}"' for c in spec.columns)
    trimmed = ", ".join(f"{trimmed_value(c.name)} AS {trimmed_name(c)}" for c in spec.columns)
    converted_cols = ", ".join(f'{converted(c, fmt_param, decimal_comma)} AS "{c.name}"' for c in spec.columns)
    trimmed_names = ", ".join(trimmed_name(c) for c in spec.columns)
    reason = f"NULLIF(concat_ws('; ', {', '.join(reason_parts(kind, fmt_param, decimal_comma))}), '')"
    # The raw text is kept for bad rows only (rejects, refusal messages): for a big file it would
    # otherwise be copied, row by row, into every intermediate table of the load (and spilled).
    return (
        f"SELECT {names}, __file, __line, CASE WHEN __reason IS NULL THEN NULL ELSE __raw END AS __raw, __reason "
        f"FROM (SELECT *, {reason} AS __reason FROM "
        f"(SELECT {converted_cols}, {trimmed_names}, __file, __line, __raw, __error FROM "
        f"(SELECT {trimmed}, __file, __line, __raw, __error FROM {staged_table})))"
    )


def event_key_sql(kind: str) -> str:
    parts = []
    for p in EVENT_KEY_PARTS[kind]:
        if p == "ts":
            parts.append("strftime(ts, '%Y-%m-%dT%H:%M:%S.%f')")
        else:
            parts.append(f"coalesce({p}, '')")
    natural = f"md5_number(concat_ws(chr(31), {', '.join(parts)}))::UUID"
    if "event_id" in KINDS[kind].column_names:
        return f"CASE WHEN event_id IS NOT NULL THEN md5_number('id' || chr(31) || event_id)::UUID ELSE {natural} END"
    return natural
