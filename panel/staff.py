"""Staff users: creating them with a checked password."""
import sqlalchemy as sa

from panel import emails
from panel.auth.models import ROLES, StaffUser
from panel.extensions import db
from panel.forms import EMAIL
from panel.passwords import MAX_LENGTH, MIN_LENGTH, hash_password


class StaffError(ValueError):
    pass


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise StaffError(f"The password needs at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise StaffError(f"The password can have at most {MAX_LENGTH} characters.")


def create_staff_user(email: str, password: str, role: str = "staff", name: str = "") -> StaffUser:
    """A new staff user with a checked password; flushed, never committed (the caller's unit of work is)."""
    try:
        email = emails.key(email)  # staff e-mails are stored in their comparison form (panel/emails.py)
    except emails.EmailError as error:
        raise StaffError(str(error)) from None
    if not EMAIL.match(email) or len(email) > 254:
        raise StaffError(f"{email!r} is not an e-mail address.")
    if role not in ROLES:
        raise StaffError(f"The role must be one of {', '.join(ROLES)}.")
    check_new_password(password)
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError(f"A staff user {email} already exists.")
    user = StaffUser(email=email, role=role, name=name or email.split("@")[0], password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    return user
