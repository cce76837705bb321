"""Routes for /api/v1: each names the scope its token needs (panel/api/guard.py)."""
import json
from decimal import Decimal

from flask import abort, jsonify, request

from panel import access
from panel import actor as actors
from panel.alerts import credit
from panel.api import bp
from panel.api import invoices as invoice_api
from panel.api import orders as order_api
from panel.api.guard import requires
from panel.api.limits import MAX_CDRS, MAX_ID
from panel.api.openapi import document
from panel.calls.importer import FIELDS, accept_batch
from panel.customers import accounts
from panel.customers.models import Customer
from panel.customers.trunks import parse_address

NO_CUSTOMER = "There is no customer with that id."


@bp.route("/customers/<int:customer_id>/channels", methods=["GET", "PUT"])
@requires("channels")
def channels(customer_id: int):
    """The switch reports how many live calls a customer has; the Main tab shows it."""
    if customer_id > MAX_ID:  # no such customer, and PostgreSQL would refuse the number
        abort(404, NO_CUSTOMER)
    if request.method == "GET":
        customer = access.fetch(actors.current(), Customer, customer_id, message=NO_CUSTOMER)
    else:
        payload = request.get_json(silent=True)
        value = payload.get("channels_in_use") if isinstance(payload, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            return jsonify(error="invalid", message="Send {\"channels_in_use\": <whole number>}."), 422
        try:
            customer = accounts.set_channels_in_use(actors.current(), customer_id, value)
        except ValueError as error:
            return jsonify(error="invalid", message=str(error)), 422
        if customer is None:
            abort(404, NO_CUSTOMER)
    return jsonify(
        customer_id=customer.id,
        channels_in_use=customer.channels_in_use,
        channel_limit=customer.channel_limit,
        updated_at=customer.channels_updated_at.isoformat() if customer.channels_updated_at else None,
    )


@bp.post("/cdrs")
@requires("cdrs")
def cdrs():
    """The switch sends call records: {"source": ..., "records": [{...}, ...]}, at most MAX_CDRS at a time.
    Bad records are skipped and listed by index; a record already stored is counted as a duplicate."""
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


AUTHORIZE_USAGE = ('Send one of {"customer_id": <id>}, {"sip_username": "<username>"} or {"ip": "<caller IP>"}, '
                   'and "direction": "outbound" or "inbound".')


def _is_address(value) -> bool:
    try:
        parse_address(value)
    except ValueError:
        return False
    return True


@bp.post("/calls/authorize")
@requires("calls")
def authorize_call():
    """The switch asks before a call: allowed, or refused with the reason (panel/alerts/credit.py)."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="invalid", message="The body is not a JSON object. " + AUTHORIZE_USAGE), 422
    customer_id, username, ip = payload.get("customer_id"), payload.get("sip_username"), payload.get("ip")
    direction = payload.get("direction", "outbound")
    if customer_id is not None and (not isinstance(customer_id, int) or isinstance(customer_id, bool)
                                    or not 1 <= customer_id <= MAX_ID):
        return jsonify(error="invalid", message="customer_id is a whole number. " + AUTHORIZE_USAGE), 422
    if username is not None and (not isinstance(username, str) or not 0 < len(username) <= 64):
        return jsonify(error="invalid", message="sip_username is a string. " + AUTHORIZE_USAGE), 422
    if ip is not None and not _is_address(ip):
        return jsonify(error="invalid", message="ip is an IP address such as \"203.0.113.7\". " + AUTHORIZE_USAGE), 422
    if [customer_id, username, ip].count(None) != 2:
        return jsonify(error="invalid", message=AUTHORIZE_USAGE), 422
    if direction not in credit.DIRECTIONS:
        return jsonify(error="invalid", message=AUTHORIZE_USAGE), 422
    try:
        customer = credit.find_customer(actors.current(), customer_id=customer_id, sip_username=username, ip=ip)
    except credit.UnknownCaller as unknown:
        return jsonify(unknown.as_json())
    except credit.NoCustomer as error:
        abort(404, str(error))
    return jsonify(credit.authorize(actors.current(), customer, direction).as_json())


@bp.get("/invoices")
@requires("invoices")
def invoices():
    """Invoices in id order, a page at a time, for billing systems (panel/api/invoices.py says how)."""
    try:
        filters = invoice_api.parse_filters(request.args)
    except invoice_api.InvalidParameter as error:
        return jsonify(error="invalid", message=str(error), parameter=error.parameter), 422
    return jsonify(invoice_api.invoice_page(filters))


@bp.get("/invoices/<number>")
@requires("invoices")
def invoice(number: str):
    answer = invoice_api.invoice_by_number(number)
    if answer is None:
        abort(404, "There is no invoice with that number.")
    return jsonify(answer)


@bp.get("/orders")
@requires("orders")
def orders():
    """Store orders and quotes in id order, a page at a time (panel/api/orders.py says how)."""
    try:
        filters = order_api.parse_filters(request.args)
    except invoice_api.InvalidParameter as error:
        return jsonify(error="invalid", message=str(error), parameter=error.parameter), 422
    return jsonify(order_api.order_page(filters))


@bp.get("/orders/<number>")
@requires("orders")
def order(number: str):
    answer = order_api.order_by_number(number)
    if answer is None:
        abort(404, "There is no order with that number.")
    return jsonify(answer)


@bp.get("/openapi.json")
def openapi():
    """The description of this API; public, as it holds nothing a client could not learn by trying."""
    return jsonify(document())
