"""Routes for /settings (the index), /settings/options and /settings/api-tokens."""
from flask import abort, flash, redirect, url_for

from panel.api.models import ApiToken
from panel.api.tokens import issue_token, listed_tokens, revoke_token
from panel.calls.partitions import RETENTION_OPTION, parse_retention
from panel.extensions import db
from panel.numbering.allocation import (
    NumberingError,
    NumberRange,
    current_range,
    save_range,
)
from panel.numbering.sip import DEFAULT_REALM
from panel.settings import bp
from panel.settings.forms import ApiTokenForm, OptionsForm
from panel.options import get_option, set_option
from panel.portal.sections import default_sections, set_default_sections
from panel.web import render_page


@bp.get("/")
def index():
    """Every settings page the user may open, from the one list (panel/settings PAGES)."""
    return render_page("settings/index.html")


@bp.route("/options", methods=["GET", "POST"])
def options():
    form = OptionsForm()
    if not form.is_submitted():
        form.require_comment.data = get_option("audit_comment") == "1"
        number_range = current_range()
        if number_range:
            form.number_range_start.data = number_range.start
            form.number_range_end.data = number_range.end
            form.number_block_size.data = number_range.block_size
        form.sip_realm.data = get_option("sip_realm") or DEFAULT_REALM
        form.portal_sections.data = sorted(default_sections())
        form.authorize_balance_max_age.data = int(get_option("authorize_balance_max_age") or 60)
        form.call_record_retention.data = get_option(RETENTION_OPTION)
    if form.validate_on_submit():
        try:
            if form.number_range_start.data is not None:
                save_range(NumberRange(form.number_range_start.data, form.number_range_end.data, form.number_block_size.data))
        except NumberingError as error:  # the 422 rolls back whatever was written
            form.form_errors.append(str(error))
            return render_page("settings/options.html", form=form, code=422)
        if form.decided("require_comment"):
            set_option("audit_comment", "1" if form.require_comment.data else "0")
        if form.sip_realm.data:
            set_option("sip_realm", form.sip_realm.data.strip())
        if form.decided("portal_sections"):  # no box ticked on the page: new customers see no section
            set_default_sections(form.portal_sections.data or [])
        if form.authorize_balance_max_age.data is not None:
            set_option("authorize_balance_max_age", str(form.authorize_balance_max_age.data))
        retention = parse_retention(form.call_record_retention.data)
        if get_option(RETENTION_OPTION) != ("" if retention is None else str(retention)):
            set_option(RETENTION_OPTION, "" if retention is None else str(retention))
        flash("Options saved.")
        return redirect(url_for(".options"), 303)
    return render_page("settings/options.html", form=form, code=422 if form.is_submitted() else 200)


@bp.route("/api-tokens", methods=["GET", "POST"])
def api_tokens():
    """Bearer tokens for machine clients: created here (shown once), revoked here."""
    form = ApiTokenForm()
    created = None
    if form.validate_on_submit():
        created = issue_token(form.name.data.strip(), form.scopes.data)
        form = ApiTokenForm(formdata=None)
    code = 422 if form.is_submitted() and form.errors else 200
    tokens = listed_tokens()
    response = render_page("settings/api_tokens.html", form=form, tokens=tokens, created=created, code=code)
    if created:
        response.headers["Cache-Control"] = "no-store"  # the token is shown this once
    return response


@bp.post("/api-tokens/<int:token_id>/revoke")
def revoke_api_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404, "There is no such token.")
    flash(f"Token “{token.name}” revoked." if revoke_token(token) else f"Token “{token.name}” was already revoked.")
    return redirect(url_for(".api_tokens"), 303)


from panel.settings import staff_routes  # noqa: E402, F401  (Staff users, groups, IP allow-list on this blueprint)
