"""The combiner's hit-policy filter against a direct reading of the issue's definitions.

``_hit_filter`` makes one pass over the matching specs; the reference below groups rows by
table and applies each policy literally. Both must agree on which specs are kept, in which
order (it decides the order of unions and of ``fired``), and on which conflict is reported.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.rules.engines.decision import _hit_filter
from zhenshen_core.rules.pack.model import Outcome, RuleSpec, TableSpec

POLICIES = ("first", "unique", "priority", "collect")


def reference(
    specs: list[RuleSpec], tables: dict[str, TableSpec]
) -> tuple[list[str], tuple[str, str, str] | None]:
    by_table: dict[str, list[RuleSpec]] = {}
    for spec in specs:
        if spec.table is not None:
            by_table.setdefault(spec.table, []).append(spec)
    clashes = []
    keep: set[str] = set()
    for table_id, rows in by_table.items():
        table = tables[table_id]
        rows = sorted(rows, key=lambda r: r.order)
        if table.hit == "collect":
            keep.update(r.id for r in rows)
        elif table.hit == "first":
            keep.add(rows[0].id)
        elif table.hit == "unique":
            if len(rows) > 1:
                clashes.append((rows[0].order, table_id, rows[0].id, rows[1].id))
            keep.add(rows[0].id)
        else:
            rank = {row_id: table.rank[i] for i, row_id in enumerate(table.rows)}
            keep.add(min(rows, key=lambda r: (rank[r.id], r.order)).id)
    if clashes:
        _, table_id, a, b = min(clashes)
        return [], (table_id, a, b)
    return [s.id for s in specs if s.table is None or s.id in keep], None


@st.composite
def matched_specs(draw: st.DrawFn) -> tuple[list[RuleSpec], dict[str, TableSpec]]:
    """A stage's specs (plain rules and rows of up to three tables, interleaved) and a
    matching subset, in definition order."""
    tables: dict[str, TableSpec] = {}
    units: list[tuple[str | None, int | None]] = []
    for t in range(draw(st.integers(1, 3))):
        table_id = f"t{t}"
        rows = draw(st.integers(1, 5))
        outputs = draw(st.integers(1, 2))
        tables[table_id] = TableSpec(
            id=table_id,
            stage="route",
            hit=draw(st.sampled_from(POLICIES)),
            inputs=(),
            outputs=tuple(f"o{i}" for i in range(outputs)),
            rows=tuple(f"{table_id}#{r + 1}" for r in range(rows)),
            rank=tuple(tuple(draw(st.integers(0, 2)) for _ in range(outputs)) for _ in range(rows)),
        )
        units += [(table_id, r + 1) for r in range(rows)]
    units += [(None, None)] * draw(st.integers(0, 4))
    units = draw(st.permutations(units))
    # Rows of one table stay in row order, as in a pack.
    next_row: dict[str, int] = {}
    specs: list[RuleSpec] = []
    for order, (table_id, _) in enumerate(units):
        if table_id is None:
            specs.append(RuleSpec(f"r{order}", "route", 0, order, None, Outcome()))
            continue
        row = next_row[table_id] = next_row.get(table_id, 0) + 1
        specs.append(
            RuleSpec(
                f"{table_id}#{row}", "route", 0, order, None, Outcome(), table=table_id, row=row
            )
        )
    subset = draw(st.lists(st.booleans(), min_size=len(specs), max_size=len(specs)))
    return [s for s, keep in zip(specs, subset, strict=True) if keep], tables


@given(case=matched_specs())
def test_hit_filter_agrees_with_the_definitions(
    case: tuple[list[RuleSpec], dict[str, TableSpec]],
) -> None:
    specs, tables = case
    kept, conflict = _hit_filter(list(specs), tables)
    expected_ids, expected_conflict = reference(specs, tables)
    assert [s.id for s in kept] == expected_ids
    got = None if conflict is None else (conflict[0], conflict[1].id, conflict[2].id)
    assert got == expected_conflict
