"""Routes for /api/v1."""
from flask import abort, g, jsonify, request

from panel.api import bp
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
    g.audit_actor = {"user_label": f"API: {token.name}"}
    return token


@bp.route("/customers/<int:customer_id>/channels", methods=["GET", "PUT"])
def channels(customer_id: int):
    """The switch reports how many live calls a customer has; the Main tab shows it."""
    _require("channels")
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
