"""Routes for Settings → Staff users, Permission groups and the staff IP allow-list (admins only: the
settings blueprint's guard). Thin: a form, one call to panel/settings/staff_users.py, a page."""
from flask import abort, flash, redirect, url_for

from panel import actor as actors
from panel.auth.models import AREAS, StaffGroup, StaffUser
from panel.extensions import db
from panel.settings import bp
from panel.settings import staff_users as staff
from panel.settings.forms import AllowlistForm, GroupForm, InviteForm, StaffAccessForm
from panel.staff import StaffError
from panel.web import render_page


def _group_choices(form) -> None:
    form.groups.choices = [(g.id, g.name) for g in staff.listed_groups(actors.current())]


def _staff_page(form, code: int = 200, problem: str | None = None):
    actor = actors.current()
    return render_page("settings/staff.html", form=form, rows=staff.listed_staff(actor), problem=problem,
                       show_second_factor=hasattr(StaffUser, "has_second_factor"), code=code)


def _staff_user(staff_id: int) -> StaffUser:
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        abort(404, "There is no such staff user.")
    return user


@bp.route("/staff", methods=["GET", "POST"])
def staff_list():
    form = InviteForm()
    _group_choices(form)
    if form.validate_on_submit():
        try:
            user = staff.invite(actors.current(), form.email.data, form.name.data or "", form.role.data, form.groups.data)
        except StaffError as error:
            form.email.errors = [*form.email.errors, str(error)]
            return _staff_page(form, 422)
        flash(f"{user.email} is invited: the link to choose a password is valid for 48 hours.")
        return redirect(url_for(".staff_list"), 303)
    return _staff_page(form, 422 if form.is_submitted() else 200)


@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
def staff_edit(staff_id: int):
    user = _staff_user(staff_id)
    form = StaffAccessForm()
    _group_choices(form)
    if not form.is_submitted():
        form.role.data, form.groups.data = user.role, [g.id for g in user.groups]
    if form.validate_on_submit():
        try:
            staff.change_access(actors.current(), user, form.role.data, form.groups.data)
        except StaffError as error:
            form.role.errors = [*form.role.errors, str(error)]
            return render_page("settings/staff_user.html", form=form, user=user, code=422)
        flash(f"{user.email}: role and groups saved.")
        return redirect(url_for(".staff_list"), 303)
    return render_page("settings/staff_user.html", form=form, user=user, code=422 if form.is_submitted() else 200)


def _staff_action(staff_id: int, action, done: str):
    user = _staff_user(staff_id)
    try:
        action(actors.current(), user)
    except StaffError as error:
        return _staff_page(InviteForm(formdata=None), 409, problem=f"{user.email}: {error}")
    flash(done.format(email=user.email))
    return redirect(url_for(".staff_list"), 303)


@bp.post("/staff/<int:staff_id>/deactivate")
def staff_deactivate(staff_id: int):
    return _staff_action(staff_id, lambda actor, user: staff.set_active(actor, user, False),
                         "{email} is deactivated: their sessions have ended.")


@bp.post("/staff/<int:staff_id>/reactivate")
def staff_reactivate(staff_id: int):
    return _staff_action(staff_id, lambda actor, user: staff.set_active(actor, user, True), "{email} is active again.")


@bp.post("/staff/<int:staff_id>/reset-password")
def staff_reset_password(staff_id: int):
    return _staff_action(staff_id, staff.force_password_reset,
                         "{email}'s password no longer works: a link to choose a new one is on its way.")


# -- permission groups ---------------------------------------------------------------------------------

def _groups_page(form, group=None, code: int = 200):
    return render_page("settings/groups.html", form=form, group=group, groups=staff.listed_groups(actors.current()),
                       areas=AREAS, code=code)


def _save_group(group: StaffGroup | None):
    form = GroupForm()
    if not form.is_submitted() and group is not None:
        form = GroupForm(data={"name": group.name, **{f"area_{a}": "rw" if w else "r" for a, w in group.grant_map().items()}})
    if form.validate_on_submit():
        try:
            saved = staff.save_group(actors.current(), group, form.name.data, form.grants())
        except StaffError as error:
            form.name.errors = [*form.name.errors, str(error)]
            return _groups_page(form, group, 422)
        flash(f"Group “{saved.name}” saved.")
        return redirect(url_for(".groups"), 303)
    return _groups_page(form, group, 422 if form.is_submitted() else 200)


@bp.route("/groups", methods=["GET", "POST"])
def groups():
    return _save_group(None)


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group_edit(group_id: int):
    group = db.session.get(StaffGroup, group_id)
    if group is None:
        abort(404, "There is no such group.")
    return _save_group(group)


@bp.post("/groups/<int:group_id>/delete")
def group_delete(group_id: int):
    group = db.session.get(StaffGroup, group_id)
    if group is None:
        abort(404, "There is no such group.")
    staff.delete_group(actors.current(), group)
    flash(f"Group “{group.name}” deleted.")
    return redirect(url_for(".groups"), 303)


# -- the staff IP allow-list -----------------------------------------------------------------------------

@bp.route("/ip-allowlist", methods=["GET", "POST"])
def ip_allowlist():
    form = AllowlistForm()
    if not form.is_submitted():
        form.allowlist.data = staff.staff_allowlist()
    if form.validate_on_submit():
        try:
            staff.save_staff_allowlist(actors.current(), form.allowlist.data or "")
        except ValueError as error:
            form.allowlist.errors = [*form.allowlist.errors, str(error)]
            return render_page("settings/ip_allowlist.html", form=form, code=422)
        flash("Staff IP allow-list saved.")
        return redirect(url_for(".ip_allowlist"), 303)
    return render_page("settings/ip_allowlist.html", form=form, code=422 if form.is_submitted() else 200)
