"""Substring search that stays fast on big tables.

A search matches with ILIKE '%text%' (trigram indexes on PostgreSQL) and shows the matches in
name order. Ordering first and filtering second walks the name index row by row, which is slow
when the matches sit together in the alphabet ("Ines Ito" × 7,000); so the matches are found
first (at most SEARCH_CAP of them, with just their sort keys), one page of them is picked in
order, and only that page's rows are loaded. Beyond the cap the page says so.
"""
import sqlalchemy as sa

MIN_LENGTH = 3  # trigrams: shorter text cannot use the index
SEARCH_CAP = 10_000


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def too_short(text: str) -> bool:
    return 0 < len(text) < MIN_LENGTH and not text.isdigit()


def digits_only(text: str) -> bool:
    return text.replace(" ", "").replace("+", "").replace("-", "").isdigit()


def page_of_matches(session, entity_statement, id_column, sort_columns, conditions, number: int, size: int):
    """Rows of `entity_statement` for one page of the matches of `conditions`, ordered by `sort_columns`.
    Returns (rows, has_next, capped): capped when more than SEARCH_CAP rows match."""
    matches = sa.select(id_column, *sort_columns).where(*conditions).limit(SEARCH_CAP + 1).subquery()
    keys = [matches.c[c.key] for c in sort_columns] + [matches.c[id_column.key]]
    found = session.execute(
        sa.select(matches.c[id_column.key], sa.func.count().over()).order_by(*keys)
        .limit(size + 1).offset((number - 1) * size)
    ).all()
    capped = bool(found) and found[0][1] > SEARCH_CAP
    ids = [row[0] for row in found]
    rows = session.scalars(entity_statement.where(id_column.in_(ids)).order_by(*sort_columns, id_column)).unique().all() if ids else []
    return rows[:size], len(rows) > size, capped


def matching_ids(id_column, condition):
    """The ids of at most SEARCH_CAP matching rows, as a subquery to filter the ordered page with."""
    return sa.select(id_column).where(condition).limit(SEARCH_CAP).scalar_subquery()
