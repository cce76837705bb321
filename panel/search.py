"""Substring search that stays fast on big tables.

A search matches with ILIKE '%text%' (trigram indexes on PostgreSQL) and shows the matches in
name order. Ordering first and filtering second walks the name index row by row, which is slow
when the matches sit together in the alphabet ("Ines Ito" × 7,000); so the matches are found
first (at most SEARCH_CAP of them, with just their sort keys), one page of them is picked in
order, and only that page's rows are loaded. Beyond the cap the page says so.
"""
import sqlalchemy as sa

from panel import pages

MIN_LENGTH = 3  # trigrams: shorter text cannot use the index
SEARCH_CAP = 10_000


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def prefix(text: str) -> str:
    """A LIKE pattern (escape "\\") for text that starts with `text`: a B-tree reads its matches as a range."""
    return like(text)[1:]


def too_short(text: str) -> bool:
    return 0 < len(text) < MIN_LENGTH and not text.isdigit()


def has_space(text: str) -> bool:
    return any(character.isspace() for character in text.strip())


def digits_only(text: str) -> bool:
    return text.replace(" ", "").replace("+", "").replace("-", "").isdigit()


def page_of_matches(session, entity_statement, id_column, sort_columns, conditions, wanted, size: int):
    """One keyset page (panel/pages.py) of the rows of `entity_statement` matching `conditions`, in the order of
    `sort_columns` then the id; its cursors are those of the same list unsearched. `capped` when more than
    SEARCH_CAP rows match."""

    matches = sa.select(id_column, *sort_columns).where(*conditions).limit(SEARCH_CAP + 1).subquery()
    counted = sa.select(matches, sa.func.count().over().label("matched")).subquery()
    keys = [counted.c[c.key] for c in sort_columns] + [counted.c[id_column.key]]
    found = pages.keyset(session, sa.select(counted.c[id_column.key], counted.c.matched), keys, wanted, size,
                         scalars=False, key=lambda row: row)
    capped = bool(found.items) and found.items[0].matched > SEARCH_CAP
    return page_of_found(session, entity_statement, id_column, sort_columns, found, capped)


def page_of_found(session, entity_statement, id_column, sort_columns, found, capped: bool = False):
    """The page of `entity_statement`'s rows whose ids (each row's first column) a keyset page `found` holds, in the
    order of `sort_columns` then the id, with the cursors of the same list unsearched."""
    ids = [row[0] for row in found.items]
    rows = session.scalars(entity_statement.where(id_column.in_(ids)).order_by(*sort_columns, id_column)).unique().all() if ids else []
    columns = [*sort_columns, id_column]
    return pages.page_of(list(rows), found.size, has_prev=found.has_prev, has_next=found.has_next, at=found.at,
                         key=lambda row: pages.key_of(row, columns), is_last=found.is_last, capped=capped)


def matching_ids(id_column, condition):
    """The ids of at most SEARCH_CAP matching rows, as a subquery to filter the ordered page with."""
    return sa.select(id_column).where(condition).limit(SEARCH_CAP).scalar_subquery()
