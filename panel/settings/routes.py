"""Routes for /settings/options."""
from flask import flash, redirect, url_for

from panel.extensions import db
from panel.numbering.allocation import (
    NumberingError,
    NumberRange,
    current_range,
    save_range,
)
from panel.numbering.sip import DEFAULT_REALM
from panel.settings import bp
from panel.settings.forms import OptionsForm
from panel.settings.options import get_option, set_option
from panel.web import render_page


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
    if form.validate_on_submit():
        try:
            if form.number_range_start.data is not None:
                save_range(NumberRange(form.number_range_start.data, form.number_range_end.data, form.number_block_size.data))
        except NumberingError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            return render_page("settings/options.html", form=form, code=422)
        set_option("audit_comment", "1" if form.require_comment.data else "0")
        if form.sip_realm.data:
            set_option("sip_realm", form.sip_realm.data.strip())
        db.session.commit()
        flash("Options saved.")
        return redirect(url_for(".options"), 303)
    return render_page("settings/options.html", form=form, code=422 if form.is_submitted() else 200)
