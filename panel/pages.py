"""Keyset pages: every list pages over its sort order with a cursor, never with OFFSET, and never counts a table.

A page's links carry a cursor: the sort key of the row it starts after (`after=`) or ends before
(`before=`), signed so it cannot be forged into a crash, with the position of the page's first row so the
page can say "Rows 51–100" without counting. `last=1` is the end of the list (read backwards), whose
position is not known until the reader goes back to the first page. A cursor that does not read (typed
by hand, from an older version) gives the first page.

    request = pages.requested()                        # from the query string
    page = pages.keyset(session, statement, [Customer.name, Customer.id], request, size)
    {{ pager(page, 'customers.index', {'q': q}) }}     # First / Previous / Next / Last links

The sort columns end with a unique column (the id). A column may be given as `column.desc()`.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, request
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql import operators

SALT = "keyset-page"
MAX_POSITION = 10**12


@dataclass(frozen=True)
class PageRequest:
    """Which page a reader asked for: the first, the one after or before a row's key, or the last."""

    after: tuple | None = None
    before: tuple | None = None
    last: bool = False
    at: int | None = None  # the 1-based position of the page's first row, when known

    @property
    def first(self) -> bool:
        return self.after is None and self.before is None and not self.last


FIRST = PageRequest(at=1)


@dataclass
class Page:
    """One page of rows. `links` gives the query arguments of First, Previous, Next and Last (absent when
    there is no such page), for the one `pager` macro."""

    items: list
    size: int
    has_next: bool
    has_prev: bool = False
    at: int | None = 1
    capped: bool = False  # a search found more rows than it orders (see panel/search.py)
    links: dict = field(default_factory=dict)
    is_last: bool = False

    @property
    def number(self) -> int | None:
        """The page number when the position is known (1 for the first page)."""
        return None if self.at is None else (self.at - 1) // self.size + 1

    @property
    def label(self) -> str:
        if not self.items:
            return "No rows"
        if self.at is None:
            return f"Last {len(self.items)} rows" if self.is_last else f"{len(self.items)} rows"
        return f"Rows {self.at:,}–{self.at + len(self.items) - 1:,}"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _plain(value):
    if isinstance(value, datetime):
        return {"t": value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() if value.tzinfo else value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _typed(value):
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"]).replace(tzinfo=timezone.utc)
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "n" in value:
            return Decimal(value["n"])
        raise ValueError("unknown value")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError("unknown value")


def cursor(key: tuple, at: int | None) -> str:
    return _serializer().dumps([[_plain(v) for v in key], at])


def read_cursor(text: str) -> tuple[tuple, int | None] | None:
    try:
        key, at = _serializer().loads(text)
        key = tuple(_typed(v) for v in key)
    except (BadData, ValueError, TypeError):
        return None
    if at is not None and (not isinstance(at, int) or not 1 <= at <= MAX_POSITION):
        at = None
    return key, at


def requested(args=None) -> PageRequest:
    """The page asked for in the query string (`after`, `before`, `last`); the first page otherwise."""
    args = request.args if args is None else args
    for name in ("after", "before"):
        if args.get(name):
            read = read_cursor(args[name])
            if read is None:
                return FIRST
            key, at = read
            return PageRequest(**{name: key}, at=at)
    if args.get("last"):
        return PageRequest(last=True, at=None)
    return FIRST


def no_matches(noun: str, filters) -> str:
    """"No customers match “acme”, status Penalty.": an empty list says which filters left it empty."""
    said = [f"“{value}”" if not label else f"{label} {value}" for label, value in filters if value]
    return f"No {noun} match {', '.join(said)}." if said else f"No {noun} yet."


def kept_position(args=None) -> dict:
    """The cursor arguments of the page being read, to come back to it after an action on one of its rows."""
    args = request.args if args is None else args
    return {name: args[name][:500] for name in ("after", "before", "last") if args.get(name)}


def _parts(column):
    """(the column, descending?) of a sort column given as `col` or `col.desc()`."""
    if isinstance(column, UnaryExpression) and column.modifier in (operators.desc_op, operators.asc_op):
        return column.element, column.modifier is operators.desc_op
    return column, False


def _beyond(columns, key: tuple, forward: bool):
    """Rows strictly after `key` in the sort order (or strictly before it when not `forward`)."""
    parts = [_parts(c) for c in columns]
    directions = {descending for _, descending in parts}
    if len(directions) == 1:
        descending = directions.pop()
        ascending = forward != descending
        row = sa.tuple_(*(column for column, _ in parts))
        values = sa.tuple_(*(sa.literal(v, column.type) for v, (column, _) in zip(key, parts)))
        # The first column's own bound, redundant, is for PostgreSQL's B-tree: given a list of values for that
        # column (`name IN (…)`) and the row comparison alone, it reads each listed value from its first row.
        lead, bound = parts[0][0], sa.literal(key[0], parts[0][0].type)
        return sa.and_(row > values, lead >= bound) if ascending else sa.and_(row < values, lead <= bound)
    clauses = []
    for i, (column, descending) in enumerate(parts):
        ascending = forward != descending
        equal = [parts[j][0] == key[j] for j in range(i)]
        clauses.append(sa.and_(*equal, column > key[i] if ascending else column < key[i]))
    return sa.or_(*clauses)


def _order(columns, forward: bool):
    order = []
    for column in columns:
        plain, descending = _parts(column)
        order.append(plain.desc() if descending == forward else plain.asc())
    return order


def key_of(row, columns) -> tuple:
    return tuple(getattr(row, _parts(c)[0].key) for c in columns)


def first_page_statement(statement, columns, size: int):
    """The statement `keyset` reads the first page of `size` rows with, for a caller that builds it once and gives
    it as `first_page` (with `sa.bindparam` parameters): a list read on every request then skips building it."""
    return statement.order_by(None).order_by(*_order(columns, True)).limit(size + 1)


def _past_cursor(statement, columns, wanted: PageRequest):
    """`statement` (unordered) limited to the rows past the cursor of `wanted`, and the request as read: (query,
    wanted, boundary, forward). A cursor of another list reads as the first page."""
    forward = not (wanted.before is not None or wanted.last)
    query = statement.order_by(None)
    boundary = wanted.after if wanted.after is not None else wanted.before
    if boundary is not None:
        if len(boundary) != len(columns):
            return query, FIRST, None, True
        query = query.where(_beyond(columns, boundary, forward))
    return query, wanted, boundary, forward


def bounded(statement, columns, wanted: PageRequest, size: int):
    """The rows of `statement` that the page `wanted` can hold: past its cursor, in its reading order, `size` + 1 of
    them. For a part of a query (a LATERAL read per word) whose whole `keyset` then pages."""
    query, _, _, forward = _past_cursor(statement, columns, wanted)
    return query.order_by(*_order(columns, forward)).limit(size + 1)


def keyset(session, statement, columns, wanted: PageRequest, size: int, *, scalars: bool = True,
           key=None, params: dict | None = None, first_page=None) -> Page:
    """One page of `statement`'s rows in the order of `columns` (ending with a unique column). `key(row)` gives a
    row's sort key when the rows are not entities with those attributes; `params` are the values of the statement's
    own bound parameters (one built once with `sa.bindparam`), `first_page` its `first_page_statement`."""
    key = key or (lambda row: key_of(row, columns))
    query, wanted, boundary, forward = _past_cursor(statement, columns, wanted)
    if boundary is None and forward and first_page is not None:
        query = first_page
    else:
        query = query.order_by(*_order(columns, forward)).limit(size + 1)
    result = session.execute(query, params)
    rows = list(result.scalars().unique().all() if scalars else result.all())
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    if forward:
        has_prev, has_next = boundary is not None, more
        at = wanted.at if boundary is not None else 1
    else:
        has_prev, has_next = more, not wanted.last
        if not more:
            at = 1
        elif wanted.at is not None:
            at = max(1, wanted.at - len(rows))
        else:
            at = None
    return page_of(rows, size, has_prev=has_prev, has_next=has_next, at=at, key=key, is_last=wanted.last)


def page_of(rows: list, size: int, *, has_prev: bool, has_next: bool, at: int | None, key, is_last: bool = False,
            capped: bool = False) -> Page:
    """A Page of `rows` with its links, the rows' sort keys given by `key(row)`."""
    links = {}
    if rows and has_prev:
        links["first"] = {}
        links["prev"] = {"before": cursor(key(rows[0]), at)}
    if rows and has_next:
        links["next"] = {"after": cursor(key(rows[-1]), None if at is None else at + len(rows))}
        links["last"] = {"last": 1}
    return Page(items=rows, size=size, has_next=has_next, has_prev=has_prev, at=at, capped=capped, links=links,
                is_last=is_last or (not has_next and at is None))
