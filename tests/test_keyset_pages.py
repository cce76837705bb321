"""Keyset pages (panel/pages.py): walking Next from the first page and Previous from the last visits every row
once, in order, whatever the sort (ties, descending, mixed directions, timestamps), on both databases; a page
never uses OFFSET nor counts the table; a cursor that does not read gives the first page."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel import pages, unit_of_work
from panel.actor import SYSTEM
from panel.customers.accounts import create_customer
from panel.customers.models import Customer
from panel.extensions import db
from panel.types import utcnow

NAMES = ["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Delta", "Beta", "Alpha", "Epsilon", "Beta", "Zeta"]


@pytest.fixture
def customers(app):
    """Eleven customers with repeated names and created a minute apart (two at the same moment)."""
    start = utcnow().replace(microsecond=0)
    with app.app_context(), unit_of_work.unit():
        for n, name in enumerate(NAMES):
            customer = create_customer(SYSTEM, {"name": name}, "USD")
            customer.created_at = start + timedelta(minutes=min(n, 9))
    return NAMES


def walk(app, columns, size, backwards=False):
    """Every row's id visited by following Next from the first page (or Previous from the last), and the labels."""
    seen, labels = [], []
    with app.test_request_context():
        wanted = pages.PageRequest(last=True) if backwards else pages.FIRST
        for _ in range(50):
            page = pages.keyset(db.session, sa.select(Customer), columns, wanted, size)
            ids = [c.id for c in page.items]
            seen = ids + seen if backwards else seen + ids
            labels.append(page.label)
            link = page.links.get("prev" if backwards else "next")
            if not link:
                return seen, labels
            wanted = pages.requested(link)
    raise AssertionError("the pages never ended")


def expected(app, columns):
    with app.app_context():
        return list(db.session.scalars(sa.select(Customer.id).order_by(*columns)))


ORDERS = {
    "name then id": lambda: [Customer.name, Customer.id],
    "newest first": lambda: [Customer.created_at.desc(), Customer.id.desc()],
    "mixed directions": lambda: [Customer.name.asc(), Customer.created_at.desc(), Customer.id.desc()],
}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("size", [1, 3, 4, 11, 20])
def test_next_and_previous_visit_every_row_once_in_order(app, customers, order, size):
    columns = ORDERS[order]()
    everything = expected(app, columns)
    forward, labels = walk(app, columns, size)
    assert forward == everything
    assert labels[0] == f"Rows 1–{min(size, len(NAMES))}"
    assert labels[-1].endswith(f"–{len(NAMES)}")
    backward, labels = walk(app, columns, size, backwards=True)
    assert backward == everything
    assert labels[-1].startswith("Rows 1–")


def test_previous_from_a_middle_page_keeps_the_row_positions(app, customers):
    columns = [Customer.name, Customer.id]
    with app.test_request_context():
        first = pages.keyset(db.session, sa.select(Customer), columns, pages.FIRST, 4)
        second = pages.keyset(db.session, sa.select(Customer), columns, pages.requested(first.links["next"]), 4)
        third = pages.keyset(db.session, sa.select(Customer), columns, pages.requested(second.links["next"]), 4)
        back = pages.keyset(db.session, sa.select(Customer), columns, pages.requested(third.links["prev"]), 4)
    assert (second.label, third.label, back.label) == ("Rows 5–8", "Rows 9–11", "Rows 5–8")
    assert [c.id for c in back.items] == [c.id for c in second.items]
    assert not third.has_next and "next" not in third.links and "last" not in third.links
    assert "first" in back.links and "prev" in back.links


def test_a_page_never_offsets_nor_counts(app, customers):
    statements = []
    with app.test_request_context():
        engine = db.engine
        def listen(conn, cursor, statement, parameters, *args):
            if statement.upper().startswith("SELECT"):
                statements.append((statement.upper(), parameters))
        sa.event.listen(engine, "before_cursor_execute", listen)
        try:
            first = pages.keyset(db.session, sa.select(Customer), [Customer.name, Customer.id], pages.FIRST, 3)
            pages.keyset(db.session, sa.select(Customer), [Customer.name, Customer.id], pages.requested(first.links["next"]), 3)
            pages.keyset(db.session, sa.select(Customer), [Customer.name, Customer.id], pages.PageRequest(last=True), 3)
        finally:
            sa.event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == 3
    # SQLite's dialect always writes "LIMIT ? OFFSET ?": the offset it is given is 0.
    assert all("OFFSET" not in s or list(p)[-1] == 0 for s, p in statements)
    assert not any("COUNT(" in s for s, _ in statements)


@pytest.mark.parametrize("junk", [{"after": "abc"}, {"before": "x" * 600}, {"after": ""}, {"last": ""},
                                  {"page": "7"}])
def test_a_cursor_that_does_not_read_gives_the_first_page(app, junk):
    with app.test_request_context():
        assert pages.requested(junk) in (pages.FIRST, pages.PageRequest(last=True, at=None))
        assert pages.requested(junk).first


def test_a_cursor_of_another_list_gives_the_first_page(app, customers):
    with app.test_request_context():
        other = pages.cursor((1,), 51)  # a one-column cursor (an id-ordered list)
        page = pages.keyset(db.session, sa.select(Customer), [Customer.name, Customer.id],
                            pages.requested({"after": other}), 3)
    assert page.label == "Rows 1–3" and not page.has_prev


def test_a_cursor_cannot_be_forged(app, customers):
    """The cursor is signed: a reader cannot put their own values (or SQL) into it."""
    with app.test_request_context():
        good = pages.cursor(("Alpha", 1), 4)
        assert pages.requested({"after": good}).after == ("Alpha", 1)
        forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
        assert pages.requested({"after": forged}) == pages.FIRST


def test_a_search_pages_with_the_same_cursors(app, customers):
    from panel.customers.accounts import customer_page

    with app.test_request_context():
        first = customer_page(SYSTEM, "bet", "", pages.FIRST, 3)
        second = customer_page(SYSTEM, "bet", "", pages.requested(first.links["next"]), 3)
        back = customer_page(SYSTEM, "bet", "", pages.requested(second.links["prev"]), 3)
    assert [c.name for c in first.items + second.items] == ["Beta"] * 4
    assert (first.label, second.label, back.label) == ("Rows 1–3", "Rows 4–4", "Rows 1–3")
    assert not second.has_next and [c.id for c in back.items] == [c.id for c in first.items]


def test_a_statement_built_once_with_parameters_and_its_first_page_pages_like_one_built_each_time(app, customers):
    """The Store's way (panel/store/catalogue.py): the statement and its first page built once with `sa.bindparam`,
    the values given to each read."""
    columns = [Customer.name, Customer.id]
    once = sa.select(Customer).where(Customer.name != sa.bindparam("left_out"))
    first_page = pages.first_page_statement(once, columns, 3)
    with app.test_request_context():
        each_time = sa.select(Customer).where(Customer.name != "Beta")
        wanted, seen, labels = pages.FIRST, [], []
        while True:
            page = pages.keyset(db.session, once, columns, wanted, 3, params={"left_out": "Beta"},
                                first_page=first_page)
            plain = pages.keyset(db.session, each_time, columns, wanted, 3)
            assert [c.id for c in page.items] == [c.id for c in plain.items] and page.links == plain.links
            seen, labels = seen + [c.id for c in page.items], labels + [page.label]
            if "next" not in page.links:
                break
            wanted = pages.requested(page.links["next"])
        back = pages.keyset(db.session, once, columns, pages.requested(page.links["prev"]), 3,
                            params={"left_out": "Beta"}, first_page=first_page)
        not_beta = list(db.session.scalars(sa.select(Customer.id).where(Customer.name != "Beta").order_by(*columns)))
    assert seen == not_beta
    assert labels == ["Rows 1–3", "Rows 4–6", "Rows 7–7"] and back.label == "Rows 4–6"
