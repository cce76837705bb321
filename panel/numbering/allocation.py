"""The account-wide number range and the blocks handed out from it.

Blocks are aligned on the range: block k is [start + k·size, start + (k+1)·size − 1], all inside
[start, end]. "+" takes the lowest block no customer holds, so released blocks are reused.
Allocation is serialised (an advisory lock on PostgreSQL, the write lock on SQLite, both held until the
caller's unit of work ends), and the database refuses two blocks that share a number (unique start, and
no overlap) in any case: a block taken meanwhile by a writer that skipped the lock costs one SAVEPOINT,
and the next free block is tried.
"""
from dataclasses import dataclass

import sqlalchemy as sa

from panel import access
from panel.actor import Actor
from panel.extensions import db
from panel.numbering.models import NumberBlock, SipUser
from panel.options import get_option, set_option

ALLOCATION_LOCK_KEY = 0x6E756D62  # "numb"


class NumberingError(ValueError):
    """A rule refused the change; the message is for the user."""


@dataclass(frozen=True)
class NumberRange:
    start: int
    end: int
    block_size: int

    @property
    def blocks(self) -> int:
        return (self.end - self.start + 1) // self.block_size

    def block(self, k: int) -> tuple[int, int]:
        first = self.start + k * self.block_size
        return first, first + self.block_size - 1


def current_range() -> NumberRange | None:
    values = [get_option(k) for k in ("number_range_start", "number_range_end", "number_block_size")]
    if not all(v.isdigit() for v in values):
        return None
    return NumberRange(start=int(values[0]), end=int(values[1]), block_size=int(values[2]))


def check_new_range(new: NumberRange) -> None:
    """Refuse a range that would strand or reshape blocks already handed out."""
    if new.start < 1 or new.block_size < 1:
        raise NumberingError("The range start and the block size must be positive whole numbers.")
    if new.start >= new.end:
        raise NumberingError("The range end must be greater than its start.")
    if new.block_size > new.end - new.start + 1:
        raise NumberingError("The block size is larger than the whole range.")
    blocks = db.session.scalars(sa.select(NumberBlock).order_by(NumberBlock.start_number)).all()
    if not blocks:
        return
    sizes = {b.size for b in blocks}
    if sizes != {new.block_size}:
        raise NumberingError(f"{len(blocks)} assigned block(s) hold {', '.join(map(str, sorted(sizes)))} numbers each; "
                             "the block size cannot change while blocks are assigned.")
    outside = [b for b in blocks if b.start_number < new.start or b.end_number > new.end]
    if outside:
        first = outside[0]
        raise NumberingError(f"{len(outside)} assigned block(s) would fall outside the range, "
                             f"such as {first.start_number} – {first.end_number}. Release them first.")
    if any((b.start_number - new.start) % new.block_size for b in blocks):
        raise NumberingError("Assigned blocks would no longer line up with the range: "
                             "the start may only move by whole blocks.")


def save_range(new: NumberRange) -> None:
    check_new_range(new)
    set_option("number_range_start", str(new.start))
    set_option("number_range_end", str(new.end))
    set_option("number_block_size", str(new.block_size))


def _serialise(session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ALLOCATION_LOCK_KEY})


def assign_next_block(actor: Actor, customer_id: int) -> NumberBlock:
    """Give the customer the lowest free block of the range (flushed; the caller's unit of work commits)."""
    access.fetch_customer(actor, customer_id, write=True)
    number_range = current_range()
    if number_range is None:
        raise NumberingError("Define the number range under Settings → Options first.")
    _serialise(db.session)
    taken = set(db.session.scalars(
        sa.select(NumberBlock.start_number).where(NumberBlock.start_number.between(number_range.start, number_range.end))
    ))
    for k in range(number_range.blocks):
        first, last = number_range.block(k)
        if first in taken:
            continue
        try:
            with db.session.begin_nested():  # a lost race undoes only this try, not the caller's transaction
                block = NumberBlock(customer_id=customer_id, start_number=first, end_number=last)
                db.session.add(block)
        except sa.exc.IntegrityError:
            continue
        return block
    raise NumberingError(f"The number range {number_range.start} – {number_range.end} is exhausted: "
                         "every block is assigned. Extend the range under Settings → Options.")


def numbers_in_use(block: NumberBlock) -> list[str]:
    return list(db.session.scalars(
        sa.select(SipUser.username).where(SipUser.number_block_id == block.id).order_by(SipUser.username)
    ))


def release_block(actor: Actor, block: NumberBlock) -> None:
    access.require(actor, block, write=True)
    used = numbers_in_use(block)
    if used:
        shown = ", ".join(used[:10]) + (f" and {len(used) - 10} more" if len(used) > 10 else "")
        raise NumberingError(f"Block {block.start_number} – {block.end_number} is in use by SIP user(s) {shown}; "
                             "remove them before releasing the block.")
    db.session.delete(block)
    db.session.flush()


def customer_blocks(customer_id: int) -> list[tuple[NumberBlock, int]]:
    """The customer's blocks, each with how many of its numbers are in use."""
    counts = dict(db.session.execute(
        sa.select(SipUser.number_block_id, sa.func.count()).where(SipUser.customer_id == customer_id)
        .group_by(SipUser.number_block_id)
    ).all())
    blocks = db.session.scalars(
        sa.select(NumberBlock).where(NumberBlock.customer_id == customer_id).order_by(NumberBlock.start_number)
    ).all()
    return [(b, counts.get(b.id, 0)) for b in blocks]


def free_numbers(customer_id: int, limit: int = 500) -> list[int]:
    """Numbers of the customer's blocks that no SIP user holds, lowest first."""
    used = {int(u) for u in db.session.scalars(sa.select(SipUser.username).where(SipUser.customer_id == customer_id))
            if u.isdigit()}
    found = []
    for block, _count in customer_blocks(customer_id):
        for number in range(block.start_number, block.end_number + 1):
            if number not in used:
                found.append(number)
                if len(found) >= limit:
                    return found
    return found
