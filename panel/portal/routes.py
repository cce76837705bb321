"""Routes under /portal: sign-in, the customer overview, the contact's profile, Portal Login's return."""
import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from panel import access, emails, pages, unit_of_work
from panel import actor as actors
from panel.audit.recorder import record_event
from panel.auth import throttle
from panel.contacts.models import Contact
from panel.contacts.logins import email_taken
from panel.contacts.records import change_login_email, send_now, set_password
from panel.invoices.balance import overview
from panel.extensions import db
from panel.invoices.billing import customer_invoices, paid_amounts
from panel.invoices.models import Invoice
from panel.passwords import check_password
from panel.portal import bp
from panel.portal.access import (
    current_actor,
    end_portal_login,
    forget_contact,
    ip_allowed,
    open_portal_login,
    refuse_sign_in,
    remember_contact,
)
from panel.portal.sections import menu_sections, section_required
from panel.portal.forms import (
    ChangePasswordForm,
    MobileCodeForm,
    PortalLoginForm,
    ProfileForm,
)
from panel.contacts.verification import (
    LinkError,
    SendLimited,
    check_mobile_code,
    confirm_email_link,
    queue_email_link,
    send_mobile_code,
)
from panel.support import credits
from panel.twofactor import gate as second_factor
from panel.types import utcnow

PUBLIC = {"portal.login", "portal.verify_email_link", "portal.forgot_password", "portal.set_password",
          "portal.reset_passkey_options", "portal.reset_passkey"}
FAILED = "The e-mail or password is not right, or signing in from your address is not allowed."


def _to_portal_login():
    if getattr(request, "htmx", None):
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = url_for("portal.login")
        return response
    return redirect(url_for("portal.login"))


@bp.before_request
def load_identity():
    """The portal's own guard: every page but sign-in needs a contact (or staff in Portal Login)."""
    if request.endpoint in PUBLIC:
        return None
    actor = current_actor()
    if actor is None:
        return _to_portal_login()
    actors.act_as(actor)
    held = second_factor.hold_contact(actor)  # half signed in: only the second-factor page and sign-out
    if held is not None:
        return held
    if actor.contact.must_change_password and not actor.impersonated and request.endpoint not in (
        "portal.password", "portal.logout"
    ):
        return redirect(url_for("portal.password"))
    return None


@bp.app_context_processor
def portal_context():
    """Templates see `portal`: the actor when it acts in the portal (None on staff pages), and the
    Portal Login's end for the banner."""
    actor = actors.current()
    if not actor.in_portal:
        return {"portal": None}
    return {"portal": actor, "portal_login": open_portal_login() if actor.impersonated else None,
            "portal_sections": menu_sections(actor)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = PortalLoginForm()
    if request.method == "GET":
        return render_template("portal/login.html", form=form)
    if not form.validate():
        return render_template("portal/login.html", form=form), 422
    # The comparison key of panel/emails.py; an address it refuses matches no contact (email_key is never "").
    email, ip = emails.lookup_key(form.email.data) or "", request.remote_addr or ""
    key = f"portal:{email}"
    wait = throttle.wait_before_next_try(key, f"portal:{ip}")
    if wait is not None:
        form.form_errors.append(f"Too many failed sign-ins. Try again in {throttle.describe(wait)}.")
        return render_template("portal/login.html", form=form), 429
    contact = db.session.scalar(sa.select(Contact).where(Contact.email_key == email))
    ok = check_password(form.password.data, contact.password_hash if contact else None)
    refusal = None
    if ok and not contact.active:
        refusal = "the contact is deactivated"
    elif ok and contact.must_change_password and contact.password_expires_at and contact.password_expires_at < utcnow():
        refusal = "the temporary password has expired"
    elif ok and not ip_allowed(contact, ip):
        refusal = f"address {ip} is not on the contact's allow-list"
    if not ok or refusal:
        unit_of_work.keep_on_refusal()  # the failure counts for throttling, and a refusal is its own record
        throttle.record_failure(key, f"portal:{ip}")
        if refusal:
            refuse_sign_in(contact, ip, refusal)
        _record_failed_sign_in(email, contact, refusal or "wrong password")
        form.form_errors.append("Your temporary password has expired. Ask your provider for a new one."
                                if refusal == "the temporary password has expired" else FAILED)
        return render_template("portal/login.html", form=form), 401
    throttle.signed_in(key, f"portal:{ip}")  # with a second factor: once it has passed too
    contact.last_login_at = utcnow()
    remember_contact(contact)
    record_event("LOGIN", "Sign-in", customer_id=contact.customer_id, actor=actors.contact(contact),
                 table_name="portal_sign_in", row_id=contact.id)
    return redirect(second_factor.after_portal_password(contact), 303)


def _record_failed_sign_in(email: str, contact: Contact | None, reason: str) -> None:
    """A LOGIN entry for a refused portal sign-in (the route keeps it: unit_of_work.keep_on_refusal)."""
    record_event("LOGIN", "Failed sign-in", customer_id=contact.customer_id if contact else None,
                 data={"email": email, "reason": reason}, actor=actors.contact(contact) if contact else None,
                 table_name="portal_sign_in", row_id=contact.id if contact else "")


@bp.post("/logout")
def logout():
    actor = actors.current()
    if actor.in_portal and not actor.impersonated:
        record_event("LOGOUT", "Sign-out", customer_id=actor.customer_id, table_name="portal_sign_in", row_id=actor.contact.id)
    forget_contact()
    return redirect(url_for("portal.login"), 303)


@bp.get("/")
def home():
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    notes = db.session.execute(
        sa.select(Contact.name, Contact.contact_type, Contact.public_notes)
        .where(Contact.customer_id == customer.id, Contact.active.is_(True), Contact.public_notes != "")
        .order_by(Contact.name)
    ).all()
    return render_template("portal/home.html", customer=customer, overview=overview(customer), notes=notes,
                           support_credits=credits.balance(customer.id))


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    actor = actors.current()
    contact = actor.contact
    form = ProfileForm(obj=contact) if request.method == "GET" else ProfileForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("portal/profile.html", form=form, contact=contact, code_form=MobileCodeForm(formdata=None)), 422
        new_email = form.new_email.data or ""
        if new_email and actor.impersonated:
            abort(403, "In Portal Login the contact's e-mail cannot be changed.")
        phone, mobile = (form.phone.data or "").strip(), (form.mobile.data or "").strip()
        if mobile != contact.mobile:
            contact.mobile_verified = False
        contact.name, contact.phone, contact.mobile = form.name.data, phone, mobile
        note = None
        if new_email:
            # The one rule (panel/contacts/records.py). An address another account uses gets the same answer
            # and the same link as a free one (the link then says it is taken, to whoever reads that mailbox):
            # the page never tells them apart.
            try:
                note = change_login_email(actor, contact, new_email)
            except SendLimited as limited:
                form.new_email.errors = [str(limited)]
                return render_template("portal/profile.html", form=form, contact=contact,
                                       code_form=MobileCodeForm(formdata=None)), 429
        flash("Profile saved." + (f" {note}" if note else ""))
        return redirect(url_for("portal.profile"), 303)
    return render_template("portal/profile.html", form=form, contact=contact, code_form=MobileCodeForm(formdata=None))


@bp.post("/verify-email")
def verify_email():
    contact = actors.current().contact
    try:
        message = queue_email_link(contact, contact.email)
    except SendLimited as limited:
        abort(429, str(limited))
    unit_of_work.after_commit(lambda: send_now(message))
    flash(f"We sent a link to {contact.email}. Follow it to confirm your e-mail.")
    return redirect(url_for("portal.profile"), 303)


@bp.get("/verify-email/<token>")
def verify_email_link(token: str):
    try:
        contact = confirm_email_link(token)
    except LinkError as error:
        return render_template("portal/message.html", title="E-mail not confirmed", message=str(error)), 400
    return render_template("portal/message.html", title="E-mail confirmed",
                           message=f"Thank you: {contact.email} is confirmed for your portal account.")


@bp.post("/mobile/send-code")
def send_code():
    contact = actors.current().contact
    if not contact.mobile:
        abort(422, "Add a mobile number to your profile first.")
    try:
        send_mobile_code(contact)
    except SendLimited as limited:
        abort(429, str(limited))
    flash(f"We sent a 6-digit code to {contact.mobile}.")
    return redirect(url_for("portal.profile"), 303)


@bp.post("/mobile/verify")
def verify_mobile():
    contact = actors.current().contact
    # The profile page shows the code's field (and so its message) only for a mobile still to verify.
    if not contact.mobile:
        abort(422, "Add a mobile number to your profile first.")
    if contact.mobile_verified:
        abort(409, "Your mobile number is verified already.")
    code_form = MobileCodeForm()
    problem = check_mobile_code(contact, code_form.code.data) if code_form.validate() else "Enter the 6 digits."
    if problem:
        unit_of_work.keep_on_refusal()  # a wrong code counts against the code's attempts
        code_form.code.errors = [problem]
        return render_template("portal/profile.html", form=ProfileForm(obj=contact), contact=contact, code_form=code_form), 422
    flash("Your mobile number is verified.")
    return redirect(url_for("portal.profile"), 303)


@bp.route("/password", methods=["GET", "POST"])
def password():
    actor = actors.current()
    if actor.impersonated:
        abort(403, "In Portal Login the contact's password cannot be changed.")
    contact = actor.contact
    form = ChangePasswordForm()
    if request.method == "POST":
        valid = form.validate()
        if valid and not contact.must_change_password and not check_password(form.current.data or "", contact.password_hash):
            form.current.errors, valid = ["That is not your current password."], False
        if valid and check_password(form.new.data, contact.password_hash):
            form.new.errors, valid = ["Choose a password different from the current one."], False
        if valid:
            set_password(contact, form.new.data)
            remember_contact(contact)
            flash("Your password is changed.")
            return redirect(url_for("portal.home"), 303)
        return render_template("portal/password.html", form=form, contact=contact), 422
    return render_template("portal/password.html", form=form, contact=contact)


@bp.post("/return")
def return_to_panel():
    """End Portal Login: back to the contact's customer in the control panel, still signed in as staff."""
    actor = actors.current()
    login = open_portal_login() if actor.impersonated else None
    if login is None:
        abort(404)
    end_portal_login(login, "returned to the control panel")
    return redirect(url_for("customers.show", customer_id=actor.customer_id), 303)


@bp.get("/invoices")
@section_required("invoices")
def invoices():
    """The contact's own customer's invoices; the customer comes from the session, never from the URL."""
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    page, paid = customer_invoices(actor, customer.id, pages.requested(), current_app.config["PAGE_SIZE"])
    return render_template("portal/invoices.html", customer=customer, page=page, paid=paid)


@bp.get("/invoices/<number>")
@section_required("invoices")
def invoice(number: str):
    actor = actors.current()
    customer = access.fetch_customer(actor, actor.customer_id)
    invoice_id = db.session.scalar(sa.select(Invoice.id).where(Invoice.number == number[:20]))
    found = access.fetch(actor, Invoice, invoice_id, customer_id=customer.id,
                         message="You have no invoice with that number.")
    paid = paid_amounts([found.id]).get(found.id, 0)
    return render_template("portal/invoice.html", customer=customer, invoice=found, paid=paid)


# Pages of other areas live in their own modules on the same blueprint, behind the same guard.
from panel.portal import cards, customers, deployments, onboarding, password_reset, sessions, store, summary, support  # noqa: E402, F401
from panel.portal import checkout, orders  # noqa: E402, F401
