"""Routes for /api/v1."""
import json
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, g, jsonify, request
from sqlalchemy.orm.attributes import set_committed_value

from panel import actor as actors
from panel.api import bp
from panel.api import invoices as invoice_api
from panel.api.tokens import token_for
from panel.customers import accounts
from panel.extensions import db


def _require(scope: str):
    token = token_for(request.headers.get("Authorization"), scope)
    if token is None:
        response = jsonify(error="unauthorized", message=f"A bearer token with the '{scope}' scope is required.")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="panel"'
        abort(response)
    actors.act_as(actors.api(token))
    if request.method in ("GET", "HEAD"):
        _keep_last_use(token)
    return token


LAST_USE_STEP = timedelta(minutes=1)


def _keep_last_use(token) -> None:
    """token_for sets last_used_at, but a read commits nothing else, so commit it here: at most once a
    minute per token (a billing system walking pages is not a write per page), and never at the cost
    of the read itself (a busy SQLite just skips it). Otherwise the change is dropped at once, so the
    read's autoflush does not hold the write lock for the whole request. Not audited (__audit_ignore__)."""
    before = sa.inspect(token).attrs.last_used_at.history.deleted
    previous = before[0] if before else None
    if previous is not None and token.last_used_at - previous < LAST_USE_STEP:
        set_committed_value(token, "last_used_at", previous)
        return
    try:
        db.session.commit()
    except sa.exc.OperationalError:
        db.session.rollback()


@bp.route("/customers/<int:customer_id>/channels", methods=["GET", "PUT"])
def channels(customer_id: int):
    """The switch reports how many live calls a customer has; the Main tab shows it."""
    _require("channels")
    if customer_id > invoice_api.MAX_ID:  # no such customer, and PostgreSQL would refuse the number
        abort(404, "There is no customer with that id.")
    if request.method == "GET":
        from panel.customers.models import Customer

        customer = db.session.get(Customer, customer_id)
        if customer is None:
            abort(404, "There is no customer with that id.")
    else:
        payload = request.get_json(silent=True)
        value = payload.get("channels_in_use") if isinstance(payload, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            return jsonify(error="invalid", message="Send {\"channels_in_use\": <whole number>}."), 422
        try:
            customer = accounts.set_channels_in_use(customer_id, value)
        except ValueError as error:
            return jsonify(error="invalid", message=str(error)), 422
        if customer is None:
            abort(404, "There is no customer with that id.")
    return jsonify(
        customer_id=customer.id,
        channels_in_use=customer.channels_in_use,
        channel_limit=customer.channel_limit,
        updated_at=customer.channels_updated_at.isoformat() if customer.channels_updated_at else None,
    )


MAX_CDRS = 10_000


@bp.post("/cdrs")
def cdrs():
    """The switch sends call records: {"source": ..., "records": [{...}, ...]}, at most MAX_CDRS at a time.
    Bad records are skipped and listed by index; a record already stored is counted as a duplicate."""
    from panel.calls.importer import FIELDS, accept_batch

    _require("cdrs")
    usage = f'Send {{"source": "<switch name>", "records": [{{{", ".join(FIELDS)}}}, ...]}}.'
    try:
        payload = json.loads(request.get_data(as_text=True), parse_float=Decimal)  # money stays exact
    except ValueError:
        return jsonify(error="invalid", message="The body is not JSON. " + usage), 422
    records = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        return jsonify(error="invalid", message=usage), 422
    if len(records) > MAX_CDRS:
        return jsonify(error="invalid", message=f"At most {MAX_CDRS:,} records per request (got {len(records):,})."), 422
    try:
        result = accept_batch(records, payload.get("source"))
    except ValueError as error:
        return jsonify(error="invalid", message=str(error)), 422
    return jsonify(result)


@bp.get("/invoices")
def invoices():
    """Invoices in id order, a page at a time, for billing systems (panel/api/invoices.py says how)."""
    _require("invoices")
    try:
        filters = invoice_api.parse_filters(request.args)
    except invoice_api.InvalidParameter as error:
        return jsonify(error="invalid", message=str(error), parameter=error.parameter), 422
    return jsonify(invoice_api.invoice_page(filters))


@bp.get("/invoices/<number>")
def invoice(number: str):
    _require("invoices")
    answer = invoice_api.invoice_by_number(number)
    if answer is None:
        abort(404, "There is no invoice with that number.")
    return jsonify(answer)


@bp.get("/openapi.json")
def openapi():
    """The description of this API; public, as it holds nothing a client could not learn by trying."""
    from panel.api.openapi import document  # it reads this module's limits

    return jsonify(document())
