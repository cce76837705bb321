"""Number blocks without HTTP: the lowest free block, reuse, exhaustion, release rules, range changes."""
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.customers.accounts import create_customer
from panel.extensions import db
from panel.numbering.allocation import (
    NumberingError,
    NumberRange,
    assign_next_block,
    check_new_range,
    customer_blocks,
    free_numbers,
    release_block,
    save_range,
)
from panel.numbering.models import NumberBlock
from panel.numbering.sip import create_sip_user, ha1


@pytest.fixture
def ranged(app):
    with app.app_context():
        save_range(NumberRange(1000, 1499, 100))
        db.session.commit()
        ids = [create_customer(SYSTEM, {"name": f"C{n}"}, "USD").id for n in range(3)]
        unit_of_work.commit()
    return ids


def spans(blocks):
    return [(b.start_number, b.end_number) for b in blocks]


def test_nothing_is_assigned_before_the_range_is_defined(app, customer):
    with app.app_context():
        with pytest.raises(NumberingError, match="Settings → Options"):
            assign_next_block(SYSTEM, customer)


def test_blocks_are_the_lowest_free_ones_and_released_ones_are_reused(app, ranged):
    a, b, c = ranged
    with app.app_context():
        first, second, third = assign_next_block(SYSTEM, a), assign_next_block(SYSTEM, b), assign_next_block(SYSTEM, a)
        assert spans([first, second, third]) == [(1000, 1099), (1100, 1199), (1200, 1299)]
        release_block(SYSTEM, db.session.get(NumberBlock, second.id))
        assert spans([assign_next_block(SYSTEM, c)]) == [(1100, 1199)]


def test_an_exhausted_range_assigns_nothing(app, ranged):
    with app.app_context():
        for _ in range(5):
            assign_next_block(SYSTEM, ranged[0])
        with pytest.raises(NumberingError, match="exhausted"):
            assign_next_block(SYSTEM, ranged[1])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NumberBlock)) == 5


def test_a_block_in_use_cannot_be_released_and_says_by_whom(app, ranged):
    with app.app_context():
        block = assign_next_block(SYSTEM, ranged[0])
        create_sip_user(SYSTEM, ranged[0], "1005", "a long sip password")
        with pytest.raises(NumberingError, match="in use by SIP user\\(s\\) 1005"):
            release_block(SYSTEM, db.session.get(NumberBlock, block.id))
        assert customer_blocks(ranged[0])[0][1] == 1


def test_the_database_refuses_overlapping_blocks(app, ranged):
    with app.app_context():
        with unit_of_work.unit():
            assign_next_block(SYSTEM, ranged[0])
        db.session.add(NumberBlock(customer_id=ranged[1], start_number=1050, end_number=1149))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(NumberBlock(customer_id=ranged[1], start_number=1000, end_number=1000))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()


@pytest.mark.parametrize("new, message", [
    (NumberRange(1000, 1499, 50), "block size cannot change"),
    (NumberRange(1100, 1499, 100), "outside the range"),
    (NumberRange(1000, 1050, 100), "larger than the whole range"),
    (NumberRange(950, 1999, 100), "line up"),
    (NumberRange(2000, 1000, 100), "greater than its start"),
])
def test_range_changes_that_would_strand_or_reshape_blocks_are_refused(app, ranged, new, message):
    with app.app_context():
        assign_next_block(SYSTEM, ranged[0])
        with pytest.raises(NumberingError, match=message):
            check_new_range(new)


def test_the_range_may_grow_or_move_by_whole_blocks(app, ranged):
    with app.app_context():
        assign_next_block(SYSTEM, ranged[0])
        check_new_range(NumberRange(900, 5000, 100))


def test_sip_users_take_free_numbers_of_the_customers_own_blocks(app, ranged):
    a, b, _ = ranged
    with app.app_context():
        assign_next_block(SYSTEM, a)
        assign_next_block(SYSTEM, b)
        assert free_numbers(a)[:2] == [1000, 1001]
        user, password = create_sip_user(SYSTEM, a, "1000", None, "Reception")
        assert len(password) >= 16 and user.ha1 == ha1("1000", user.realm, password)
        assert free_numbers(a)[0] == 1001
        with pytest.raises(NumberingError, match="not in one of this customer's number blocks"):
            create_sip_user(SYSTEM, a, "1100", None)  # b's block
        with pytest.raises(NumberingError, match="already a SIP user"):
            create_sip_user(SYSTEM, a, "1000", None)
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "sip_user")).one()
        assert password not in entry.data and user.ha1 not in entry.data


def test_ha1_is_the_digest_a_registrar_expects():
    # RFC 2617's example: Mufasa / testrealm@host.com / Circle Of Life
    assert ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == "939e7578ed9e3c518a452acee763bce9"


def test_a_block_taken_meanwhile_costs_a_savepoint_and_the_next_free_block_is_given(app, ranged):
    """A block the query did not see as taken (here: one put off the grid, as a writer skipping the lock
    might) makes the insert fail; only that try is undone, the caller's earlier work in the same unit
    of work stays, and the next free block is given."""
    with app.app_context():
        db.session.execute(NumberBlock.__table__.insert().values(customer_id=ranged[1], start_number=1050,
                                                                 end_number=1149))
        db.session.commit()
        with unit_of_work.unit():
            earlier = assign_next_block(SYSTEM, ranged[2])  # 1200: 1000 and 1100 overlap the odd block
            block = assign_next_block(SYSTEM, ranged[0])
        assert spans([earlier, block]) == [(1200, 1299), (1300, 1399)]
        assert sorted(db.session.scalars(sa.select(NumberBlock.start_number))) == [1050, 1200, 1300]


def test_an_actor_outside_the_customers_reach_gets_no_block(app, ranged):
    from werkzeug.exceptions import NotFound

    from panel import actor as actors
    from panel.contacts.records import create_contact

    with app.app_context():
        contact, _ = create_contact(actors.SYSTEM, ranged[1], {"name": "Bo", "email": "bo@c1.example", "contact_type": "Admin"},
                                    password="long enough pw")
        with pytest.raises(NotFound):
            assign_next_block(actors.contact(contact), ranged[0])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NumberBlock)) == 0
