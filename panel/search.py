"""Substring search that stays fast on big tables.

A search matches with ILIKE '%text%' (trigram indexes on PostgreSQL) and shows the matches in
name order. Ordering first and filtering second walks the name index row by row, which is slow
when the matches sit together in the alphabet ("Ines Ito" × 7,000); so the matches are found
first, at most SEARCH_CAP of them, then ordered. Beyond the cap the page says so.
"""
import sqlalchemy as sa

MIN_LENGTH = 3  # trigrams: shorter text cannot use the index
SEARCH_CAP = 10_000


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def too_short(text: str) -> bool:
    return 0 < len(text) < MIN_LENGTH and not text.isdigit()


def matching_ids(id_column, condition):
    """The ids of at most SEARCH_CAP matching rows, as a subquery to filter the ordered page with."""
    return sa.select(id_column).where(condition).limit(SEARCH_CAP).scalar_subquery()


def is_capped(session, id_column, condition) -> bool:
    found = session.scalar(
        sa.select(sa.func.count()).select_from(sa.select(id_column).where(condition).limit(SEARCH_CAP + 1).subquery())
    )
    return found > SEARCH_CAP
