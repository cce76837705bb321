"""Routes for a customer's Internal Number Block section and its SIP users."""
from flask import redirect, url_for

from panel import access
from panel import actor as actors
from panel.numbering import bp
from panel.numbering.allocation import (
    NumberingError,
    assign_next_block,
    current_range,
    customer_blocks,
    free_numbers,
    release_block,
)
from panel.numbering.forms import SipUserForm
from panel.numbering.models import NumberBlock, SipUser
from panel.numbering.sip import create_sip_user, customer_sip_users, remove_sip_user
from panel.web import render_fragment, wants_fragment


def _section(customer, code=200, form=None, **extra):
    free = free_numbers(customer.id)
    form = form or SipUserForm(formdata=None)
    form.username.choices = [(str(n), str(n)) for n in free]
    users = customer_sip_users(customer.id)
    return render_fragment("numbering/_section.html", code=code, customer=customer, number_range=current_range(),
                           blocks=customer_blocks(customer.id), users=users, form=form, free=free, **extra)


def get_customer(customer_id: int):
    return access.fetch_customer(actors.current(), customer_id)


@bp.get("/customers/<int:customer_id>/number-blocks")
def section(customer_id: int):
    customer = get_customer(customer_id)
    if not wants_fragment():
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="number-blocks"))
    return _section(customer)


@bp.post("/customers/<int:customer_id>/number-blocks")
def assign(customer_id: int):
    """"+": the next free block of the range."""
    customer = get_customer(customer_id)
    try:
        block = assign_next_block(actors.current(), customer.id)
    except NumberingError as error:
        return _section(customer, code=409, problem=str(error))
    return _section(customer, notice=f"Block {block.start_number} – {block.end_number} assigned.")


@bp.delete("/customers/<int:customer_id>/number-blocks/<int:block_id>")
def release(customer_id: int, block_id: int):
    customer = get_customer(customer_id)
    block = access.fetch(actors.current(), NumberBlock, block_id, customer_id=customer.id, write=True,
                         message="This customer holds no such block.")
    try:
        release_block(actors.current(), block)
    except NumberingError as error:
        return _section(customer, code=409, problem=str(error))
    return _section(customer, notice=f"Block {block.start_number} – {block.end_number} released.")


@bp.post("/customers/<int:customer_id>/sip-users")
def add_sip_user(customer_id: int):
    customer = get_customer(customer_id)
    form = SipUserForm()
    if not form.validate():
        return _section(customer, code=422, form=form, adding=True)
    try:
        password = None if form.auto_password.data else form.password.data
        user, password = create_sip_user(actors.current(), customer.id, form.username.data, password,
                                         (form.caller_name.data or "").strip())
    except NumberingError as error:
        form.username.errors = [str(error)]
        return _section(customer, code=422, form=form, adding=True)
    # Shown this once, never cached; only the digest hashes are kept.
    response = _section(customer, created=user, created_password=password)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/customers/<int:customer_id>/sip-users/<int:user_id>")
def delete_sip_user(customer_id: int, user_id: int):
    customer = get_customer(customer_id)
    user = access.fetch(actors.current(), SipUser, user_id, customer_id=customer.id, write=True,
                        message="This customer has no such SIP user.")
    remove_sip_user(actors.current(), user)
    return _section(customer, notice=f"SIP user {user.username} removed.")
