"""Second factors of a staff user or a contact: TOTP enrolment and checks, recovery codes, the rule of who
must have one, and an admin's reset. Domain functions: they flush, never commit.

A TOTP code is accepted for the current 30-second step or one step either side (clock drift), and only for
a step later than the last one accepted (a code is never accepted twice). Recovery codes are kept as
SHA-256 digests and compared in constant time; each works once.
"""
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app, g

from panel import access, pages
from panel.actor import Actor
from panel.audit.recorder import record_event
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.customers.models import Customer
from panel.extensions import db
from panel.mail.outbox import deliver_after_commit, queue_mail
from panel.options import get_option
from panel.passwords import check_password
from panel.twofactor.models import Passkey, RecoveryCode, TotpSecret
from panel.types import utcnow

ISSUER = "VoIP control panel"
DRIFT_STEPS = 1
RECOVERY_CODES = 10
REQUIRE_OPTION = "two_factor_required"
REQUIRE_CHOICES = (("nobody", "nobody"), ("admins", "admins"), ("staff", "all staff"))


class FactorError(Exception):
    """A code that is not accepted; the message says what to do."""


def owner_columns(owner) -> dict:
    if isinstance(owner, StaffUser):
        return {"staff_user_id": owner.id, "contact_id": None, "customer_id": None}
    return {"staff_user_id": None, "contact_id": owner.id, "customer_id": owner.customer_id}


def _where(model, owner):
    if isinstance(owner, StaffUser):
        return model.staff_user_id == owner.id
    return model.contact_id == owner.id


def totp_of(owner) -> TotpSecret | None:
    return db.session.scalar(sa.select(TotpSecret).where(_where(TotpSecret, owner)))


def passkeys_of(owner) -> list[Passkey]:
    return list(db.session.scalars(sa.select(Passkey).where(_where(Passkey, owner)).order_by(Passkey.id)))


def has_totp(owner) -> bool:
    secret = totp_of(owner)
    return secret is not None and secret.confirmed_at is not None


def staff_and_factors() -> tuple[list[StaffUser], set[int]]:
    """Every staff user in e-mail order (staff are few), and the ids of those with a second factor."""
    staff = list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)))
    with_totp = sa.select(TotpSecret.staff_user_id).where(TotpSecret.confirmed_at.is_not(None),
                                                          TotpSecret.staff_user_id.is_not(None))
    with_passkey = sa.select(Passkey.staff_user_id).where(Passkey.staff_user_id.is_not(None))
    return staff, set(db.session.scalars(sa.union(with_totp, with_passkey)))


def contacts_with_totp(actor: Actor, wanted: pages.PageRequest, size: int) -> pages.Page:
    """A keyset page of the portal contacts (of the customers `actor` may see) with a confirmed authenticator app,
    in e-mail order. (Passkeys are staff only for now.)"""
    statement = (sa.select(Contact).join(TotpSecret, TotpSecret.contact_id == Contact.id)
                 .where(TotpSecret.confirmed_at.is_not(None)))
    within = access.customer_ids_within(actor)
    if within is not None:
        statement = statement.where(Contact.customer_id.in_(within))
    return pages.keyset(db.session, statement, [Contact.email_key, Contact.id], wanted, size)


def enrolled(owner) -> bool:
    """Has a second factor: a confirmed TOTP secret, or a passkey."""
    return has_totp(owner) or bool(passkeys_of(owner))


def staff_requirement() -> str:
    """nobody / admins / staff. A new install requires it for admins (the app's default setting)."""
    value = get_option(REQUIRE_OPTION)
    return value or current_app.config.get("TWO_FACTOR_REQUIRED_DEFAULT", "admins")


def required(owner) -> bool:
    if isinstance(owner, StaffUser):
        rule = staff_requirement()
        return rule == "staff" or (rule == "admins" and owner.is_admin)
    customer = db.session.get(Customer, owner.customer_id)
    return bool(customer and customer.require_two_factor)


# -- TOTP -------------------------------------------------------------------------------------------

def pending_totp(owner) -> TotpSecret:
    """The secret being enrolled (made once, kept until confirmed, so a reload shows the same QR code)."""
    secret = totp_of(owner)
    if secret is not None and secret.confirmed_at is not None:
        raise FactorError("An authenticator app is set up already.")
    if secret is None:
        secret = TotpSecret(secret=pyotp.random_base32(), **owner_columns(owner))
        db.session.add(secret)
        db.session.flush()
    return secret


def provisioning_uri(owner, secret: TotpSecret) -> str:
    return pyotp.TOTP(secret.secret).provisioning_uri(name=owner.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Inline <svg> markup of the QR code (no script; segno writes only a path)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def _accepted_step(secret: TotpSecret, code: str, now: float | None = None) -> int | None:
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret.secret)
    step = int((time.time() if now is None else now) // totp.interval)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def accept_totp(secret: TotpSecret, code: str, now: float | None = None) -> bool:
    """True once per code: within the drift window and later than the last accepted step."""
    step = _accepted_step(secret, code, now)
    if step is None or (secret.last_step is not None and step <= secret.last_step):
        return False
    secret.last_step = step
    return True


def confirm_totp(actor: Actor, owner, code: str) -> list[str]:
    """Confirm the pending secret with a first code; returns the ten recovery codes (shown once)."""
    secret = pending_totp(owner)
    if not accept_totp(secret, code):
        raise FactorError("That code is not right. Enter the 6 digits your app shows now.")
    secret.confirmed_at = utcnow()
    g.audit_comment = f"Two-factor sign-in enrolled (authenticator app) for {owner.email}"
    codes = new_recovery_codes(owner)
    record(ENROLLED, "2FA enrolled", owner, method="authenticator app")
    return codes


# -- recovery codes ---------------------------------------------------------------------------------

def _digest(code: str) -> str:
    return hashlib.sha256("".join(code.lower().split()).replace("-", "").encode()).hexdigest()


def new_recovery_codes(owner) -> list[str]:
    for old in db.session.scalars(sa.select(RecoveryCode).where(_where(RecoveryCode, owner))):
        db.session.delete(old)  # row by row, so each removal is audited
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 10 hex digits
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(digest=_digest(raw), **owner_columns(owner)))
    db.session.flush()
    return codes


def use_recovery_code(owner, code: str) -> bool:
    wanted = _digest(code)
    unused = db.session.scalars(sa.select(RecoveryCode).where(_where(RecoveryCode, owner), RecoveryCode.used_at.is_(None)))
    match = None
    for row in unused:  # every row compared, in constant time
        if hmac.compare_digest(row.digest, wanted):
            match = row
    if match is None:
        return False
    match.used_at = utcnow()
    return True


def recovery_codes_left(owner) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(_where(RecoveryCode, owner), RecoveryCode.used_at.is_(None)))


def check_second_factor(owner, code: str) -> bool:
    """A TOTP code (once) or an unused recovery code."""
    secret = totp_of(owner)
    if secret is not None and secret.confirmed_at is not None and accept_totp(secret, code):
        return True
    return "".join(code.split()).replace("-", "").isalnum() and use_recovery_code(owner, code)


def regenerate_recovery_codes(actor: Actor, owner) -> list[str]:
    """Ten new recovery codes for one's own second factor (shown once); the old ones stop working."""
    _own(actor, owner)
    if not enrolled(owner):
        raise FactorError("Set up two-factor sign-in first.")
    g.audit_comment = f"New recovery codes made by {owner.email}"
    codes = new_recovery_codes(owner)
    record(NEW_CODES, "New codes", owner, count=len(codes))
    return codes


# -- audit events -----------------------------------------------------------------------------------

# Entries beside LOGIN / LOGOUT / SEND (panel/audit/recorder.py EVENT_ACTIONS): who did what to whose
# second factor, never a secret, a code or a key.
ENROLLED, REMOVED, RESET, NEW_CODES = "ENROL", "UNENROL", "RESET2FA", "CODES"


def record(action: str, message: str, owner, **data) -> None:
    kind = "staff user" if isinstance(owner, StaffUser) else "contact"
    record_event(action, message, customer_id=None if isinstance(owner, StaffUser) else owner.customer_id,
                 data={kind: owner.email, **data}, table_name="second_factor",
                 row_id=f"{'staff' if isinstance(owner, StaffUser) else 'contact'}:{owner.id}")


# -- turning it off oneself -------------------------------------------------------------------------

def _own(actor: Actor, owner) -> None:
    if isinstance(owner, StaffUser):
        mine = actor.is_staff and actor.staff.id == owner.id
    else:
        mine = actor.in_portal and not actor.impersonated and actor.contact.id == owner.id
    if not mine:
        raise PermissionError("Only the owner changes their own second factor.")


def why_required(owner) -> str | None:
    """The reason the owner may not turn two-factor sign-in off, or None when they may."""
    if not required(owner):
        return None
    if isinstance(owner, StaffUser):
        return ("Two-factor sign-in is required for every staff user (Settings → Two-factor sign-in)."
                if staff_requirement() == "staff" else
                "Two-factor sign-in is required for admins (Settings → Two-factor sign-in).")
    return "Your provider requires two-factor sign-in for your account."


def proves_owner(owner, code: str, password: str) -> bool:
    """A current second-factor code (TOTP or recovery code) or the owner's password."""
    if password and check_password(password, owner.password_hash):
        return True
    return bool(code) and check_second_factor(owner, code)


def turn_off(actor: Actor, owner) -> None:
    """Remove one's own second factors (authenticator app, recovery codes and passkeys). Refused, with the
    reason, when the owner's role or customer requires two-factor sign-in. The caller checked a code or
    the password first (proves_owner, under the sign-in throttle)."""
    _own(actor, owner)
    reason = why_required(owner)
    if reason is not None:
        raise FactorError(reason)
    rows = [totp_of(owner), *passkeys_of(owner),
            *db.session.scalars(sa.select(RecoveryCode).where(_where(RecoveryCode, owner)))]
    rows = [row for row in rows if row is not None]
    if not rows:
        raise FactorError("Two-factor sign-in is off already.")
    g.audit_comment = f"Two-factor sign-in turned off by {owner.email}"
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    record(REMOVED, "2FA removed", owner, what="every second factor")


def remove_passkey(actor: Actor, owner, passkey_id: int) -> Passkey | None:
    """Remove one of one's own passkeys; None if there is no such passkey of theirs. The last second factor
    of someone who must have one is not removed."""
    _own(actor, owner)
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or (passkey.staff_user_id if isinstance(owner, StaffUser) else passkey.contact_id) != owner.id:
        return None
    if required(owner) and not has_totp(owner) and len(passkeys_of(owner)) == 1:
        raise FactorError(f"{why_required(owner)} Add another passkey or an authenticator app first.")
    db.session.delete(passkey)
    db.session.flush()
    record(REMOVED, "Passkey removed", owner, passkey=passkey.name)
    return passkey


# -- reset ------------------------------------------------------------------------------------------

def reset(actor: Actor, owner) -> bool:
    """An admin removes every second factor of `owner` (never their own); the owner is told by e-mail.
    Returns whether there was anything to remove."""
    if not actor.is_admin:
        raise PermissionError("Only an admin can reset a second factor.")
    if isinstance(owner, StaffUser) and owner.id == actor.staff.id:
        raise FactorError("You cannot reset your own second factor: ask another admin.")
    rows = [totp_of(owner), *passkeys_of(owner),
            *db.session.scalars(sa.select(RecoveryCode).where(_where(RecoveryCode, owner)))]
    rows = [row for row in rows if row is not None]
    if not rows:
        return False
    g.audit_comment = f"Second factor of {owner.email} reset by {actor.staff.email}"
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    record(RESET, "2FA reset", owner, by=actor.staff.email)
    where = "the control panel" if isinstance(owner, StaffUser) else "the customer portal"
    message = queue_mail(owner.email, "Your two-factor sign-in was reset",
                         f"Hello,\n\n{actor.staff.email} reset the two-factor sign-in of your account on {where}.\n"
                         "At your next sign-in you may be asked to set it up again.\n\n"
                         "If you did not ask for this, tell your administrator at once.\n")
    deliver_after_commit(message)
    return True


def owner_label(owner) -> str:
    return owner.email if isinstance(owner, (StaffUser, Contact)) else str(owner)
