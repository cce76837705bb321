"""Routes for /settings/options."""
from flask import flash, redirect, url_for

from panel.extensions import db
from panel.settings import bp
from panel.settings.forms import OptionsForm
from panel.settings.options import get_option, set_option
from panel.web import render_page


@bp.route("/options", methods=["GET", "POST"])
def options():
    form = OptionsForm()
    if not form.is_submitted():
        form.require_comment.data = get_option("audit_comment") == "1"
    if form.validate_on_submit():
        set_option("audit_comment", "1" if form.require_comment.data else "0")
        db.session.commit()
        flash("Options saved.")
        return redirect(url_for(".options"), 303)
    return render_page("settings/options.html", form=form, code=422 if form.is_submitted() else 200)
