"""Staff administration (Settings → Staff users): inviting staff, their role and permission groups,
deactivating and reactivating them, forcing a password reset, the groups themselves, and the staff IP
allow-list. Every function takes the acting admin first; every change is audited by the session hooks
(staff_user, staff_group, staff_group_member, setting). Nothing here commits.

The last active admin can be neither deactivated nor demoted: the panel would have nobody left to
administer it.
"""
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort

from panel.access import STAFF_ALLOWLIST_OPTION, address_allowed, parse_allowlist
from panel.actor import Actor
from panel.auth import links
from panel.auth.models import AREAS, ROLES, StaffGroup, StaffGroupMember, StaffUser
from panel.extensions import db
from panel.mail import outbox
from panel.passwords import hash_password
from panel.options import get_option, set_option
from panel.staff import StaffError, create_staff_user

LAST_ADMIN = "This is the last active admin: make another staff user an admin first."
ALLOWLIST_LENGTH = 500  # setting.value


@dataclass
class StaffRow:
    user: StaffUser
    groups: list[str]
    invited: bool
    second_factor: bool | None  # None: the panel has no second factor (yet)


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        abort(403, "Only admins manage staff users.")


def listed_staff(actor: Actor) -> list[StaffRow]:
    _admin(actor)
    users = db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)).all()
    return [StaffRow(user, [g.name for g in user.groups], links.has_open_invitation(user.id),
                     getattr(user, "has_second_factor", None)) for user in users]


def listed_groups(actor: Actor) -> list[StaffGroup]:
    _admin(actor)
    return db.session.scalars(sa.select(StaffGroup).order_by(StaffGroup.name)).all()


def _other_active_admins(user: StaffUser) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser).where(
        StaffUser.role == "admin", StaffUser.active.is_(True), StaffUser.id != user.id))


def _groups(group_ids) -> list[StaffGroup]:
    ids = {int(i) for i in group_ids or ()}
    groups = db.session.scalars(sa.select(StaffGroup).where(StaffGroup.id.in_(ids))).all() if ids else []
    if len(groups) != len(ids):
        raise StaffError("One of the groups no longer exists.")
    return groups


def _set_groups(user: StaffUser, groups: list[StaffGroup]) -> None:
    wanted = {g.id for g in groups}
    present = db.session.scalars(sa.select(StaffGroupMember).where(StaffGroupMember.staff_user_id == user.id)).all()
    for member in present:
        if member.group_id not in wanted:
            db.session.delete(member)
    for group_id in wanted - {m.group_id for m in present}:
        db.session.add(StaffGroupMember(staff_user_id=user.id, group_id=group_id))
    db.session.flush()
    db.session.expire(user, ["groups"])


def _mail_link(user: StaffUser, purpose: str, subject: str, opening: str) -> None:
    token = links.issue(purpose, staff_user=user)
    hours = int(links.VALID_FOR[purpose].total_seconds() // 3600)
    body = (f"Hello {user.name or user.email},\n\n{opening}\n\nChoose your password here (the link works once, "
            f"within {hours} hour{'s' if hours != 1 else ''}):\n\n    {links.link_url('auth.set_password', token)}\n\n"
            "If you did not expect this message, ignore it.\n")
    outbox.deliver_after_commit(outbox.queue_mail(user.email, subject, body, sensitive=True))


def invite(actor: Actor, email: str, name: str, role: str, group_ids=()) -> StaffUser:
    """A new staff user who cannot sign in until they follow the mailed link (valid 48 hours) and choose
    a password."""
    _admin(actor)
    groups = _groups(group_ids)
    user = create_staff_user(email, secrets.token_urlsafe(24), role=role, name=name.strip())
    user.password_hash = hash_password(secrets.token_urlsafe(32))  # known to nobody: unusable until the link
    _set_groups(user, groups)
    _mail_link(user, "invite", "You are invited to the control panel",
               f"{actor.staff.email} invited you to the control panel as {role}.")
    return user


def change_access(actor: Actor, user: StaffUser, role: str, group_ids=()) -> None:
    """Set `user`'s role and permission groups (they apply from the user's next request)."""
    _admin(actor)
    if role not in ROLES:
        raise StaffError(f"The role must be one of {', '.join(ROLES)}.")
    if user.role == "admin" and role != "admin" and user.active and not _other_active_admins(user):
        raise StaffError(LAST_ADMIN)
    groups = _groups(group_ids)
    user.role = role
    _set_groups(user, groups)


def set_active(actor: Actor, user: StaffUser, active: bool) -> None:
    """Deactivate (the user's sessions end on their next request: panel/access.py load_user) or reactivate."""
    _admin(actor)
    if not active and user.id == actor.staff.id:
        raise StaffError("You cannot deactivate yourself: ask another admin.")
    if not active and user.role == "admin" and user.active and not _other_active_admins(user):
        raise StaffError(LAST_ADMIN)
    user.active = active


def force_password_reset(actor: Actor, user: StaffUser) -> None:
    """The current password stops working (and with it every session of the user); a link to choose a new
    one, valid one hour, is mailed to the user. Not one's own (it would end the admin's own session):
    "I forgot my password" on the sign-in page does that."""
    _admin(actor)
    if user.id == actor.staff.id:
        raise StaffError("You cannot force your own password reset: use “I forgot my password” on the sign-in page.")
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    links.end_other_sessions(user)
    _mail_link(user, "staff_reset", "Choose a new password for the control panel",
               f"{actor.staff.email} asked you to choose a new password for the control panel.")


def save_group(actor: Actor, group: StaffGroup | None, name: str, grants: dict[str, bool]) -> StaffGroup:
    """Create (`group` None) or change a permission group: `grants` is {area: may write}."""
    _admin(actor)
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise StaffError("Give the group a name of at most 80 characters.")
    unknown = set(grants) - set(AREAS)
    if unknown:
        raise StaffError(f"There is no area {sorted(unknown)[0]!r}.")
    clash = db.session.scalar(sa.select(StaffGroup.id).where(sa.func.lower(StaffGroup.name) == name.lower()))
    if clash is not None and (group is None or clash != group.id):
        raise StaffError(f"There is already a group named “{name}”.")
    if group is None:
        group = StaffGroup(name=name, grants="")
        db.session.add(group)
    group.name, group.grants = name, StaffGroup.encode(grants)
    db.session.flush()
    return group


def delete_group(actor: Actor, group: StaffGroup) -> None:
    _admin(actor)
    for member in db.session.scalars(sa.select(StaffGroupMember).where(StaffGroupMember.group_id == group.id)):
        db.session.delete(member)
    db.session.flush()
    db.session.delete(group)
    db.session.flush()


def staff_allowlist() -> str:
    return get_option(STAFF_ALLOWLIST_OPTION)


def save_staff_allowlist(actor: Actor, text: str) -> None:
    """Save the staff IP allow-list (empty: every address). Refused if it is not a list of addresses and
    ranges, or if it would shut out the address the admin is using now."""
    _admin(actor)
    networks = parse_allowlist(text)  # ValueError with the entry at fault
    normalised = "\n".join(str(n) if n.num_addresses > 1 else str(n.network_address) for n in networks)
    if len(normalised) > ALLOWLIST_LENGTH:
        raise ValueError(f"The list can hold at most {ALLOWLIST_LENGTH} characters: use wider ranges.")
    if not address_allowed(networks, actor.ip):
        raise ValueError(f"Your own address {actor.ip} is not on the list: saving it would shut you out.")
    set_option(STAFF_ALLOWLIST_OPTION, normalised)
