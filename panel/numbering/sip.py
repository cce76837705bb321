"""SIP users: a number of the customer's own blocks, and a password kept only as digest hashes."""
import hashlib

import sqlalchemy as sa

from panel import access
from panel.actor import Actor
from panel.extensions import db
from panel.numbering.allocation import NumberingError
from panel.numbering.models import NumberBlock, SipUser
from panel.passwords import generate_password
from panel.options import get_option

DEFAULT_REALM = "sip.panel.local"


def realm() -> str:
    return get_option("sip_realm") or DEFAULT_REALM


def ha1(username: str, realm_: str, password: str) -> str:
    """MD5(username:realm:password), what a SIP registrar compares digest responses with."""
    return hashlib.md5(f"{username}:{realm_}:{password}".encode()).hexdigest()


def create_sip_user(actor: Actor, customer_id: int, username: str, password: str | None,
                    caller_name: str = "") -> tuple[SipUser, str]:
    """Create it (flushed); returns the user and the password, to be shown once."""
    access.fetch_customer(actor, customer_id, write=True)
    # ASCII digits only ("²" and "١" are digits to isdigit(), not to int()), and no longer than a block's numbers.
    if not (username.isascii() and username.isdigit()) or len(username) > 18:
        raise NumberingError("The username must be a number from the customer's blocks.")
    number = int(username)
    block = db.session.scalar(sa.select(NumberBlock).where(
        NumberBlock.customer_id == customer_id, NumberBlock.start_number <= number, NumberBlock.end_number >= number))
    if block is None:
        raise NumberingError(f"{username} is not in one of this customer's number blocks.")
    if db.session.scalar(sa.select(SipUser.id).where(SipUser.username == username)) is not None:
        raise NumberingError(f"{username} is already a SIP user.")
    password = password or generate_password(20)
    realm_ = realm()
    user = SipUser(customer_id=customer_id, number_block_id=block.id, username=username, realm=realm_,
                   ha1=ha1(username, realm_, password), ha1b=ha1(f"{username}@{realm_}", realm_, password),
                   caller_name=caller_name)
    try:
        with db.session.begin_nested():  # someone took the number a moment ago: undo only this
            db.session.add(user)
    except sa.exc.IntegrityError:
        raise NumberingError(f"{username} is already a SIP user.") from None
    return user, password


def customer_sip_users(customer_id: int) -> list[SipUser]:
    return list(db.session.scalars(sa.select(SipUser).where(SipUser.customer_id == customer_id)
                                   .order_by(SipUser.username)))


def remove_sip_user(actor: Actor, user: SipUser) -> None:
    access.require(actor, user, write=True)
    db.session.delete(user)
    db.session.flush()
