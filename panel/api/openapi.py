"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json.

Written by hand next to the code it describes; tests/api/test_openapi.py checks real answers of
every operation against it and that every /api/v1 route is in it.
"""
from functools import cache

from panel.api.limits import DEFAULT_LIMIT, MAX_CDRS, MAX_ID, MAX_LIMIT
from panel.api.models import SCOPES
from panel.customers.accounts import MAX_CHANNELS
from panel.invoices.models import INVOICE_KINDS, INVOICE_STATUSES, PAYMENT_METHODS
from panel.store.models import KINDS as PRODUCT_KINDS
from panel.store.models import ORDER_KINDS, ORDER_STATUSES
from panel.store.models import PAYMENT_METHODS as STORE_PAYMENT_METHODS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, optional: tuple = (), **extra) -> dict:
    """A closed object: every property is required unless optional, and no other is sent."""
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional],
            "additionalProperties": False, **extra}


def _nullable(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


SCHEMAS = {
    "Error": _object({
        "error": {"type": "string", "description": "A short code or title: `unauthorized`, `invalid`, `Not found`, …"},
        "message": {"type": "string", "description": "What went wrong, for a person."},
        "parameter": {"type": "string", "description": "The query parameter that was refused (422 only)."},
    }, optional=("parameter",)),
    "Money": {
        "type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{2,3})?$", "examples": ["2.65", "1250", "4.125"],
        "description": "An amount in the invoice's currency as a decimal string with exactly the currency's "
                       "ISO 4217 decimal places (2 for USD or EUR, 0 for JPY, 3 for KWD or BHD): what is billed, "
                       "rounded half up line by line. Never a JSON number, so nothing is lost to floats.",
    },
    "Minutes": {
        "type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "examples": ["19.00"],
        "description": "billed_seconds / 60 as a decimal string, rounded to two places (half to even); "
                       "billed_seconds is the exact figure.",
    },
    "DateTime": {
        "type": "string", "format": "date-time", "examples": ["2026-11-02T00:00:00+00:00"],
        "description": "ISO 8601 / RFC 3339 in UTC, written with +00:00.",
    },
    "Channels": _object({
        "customer_id": {"type": "integer"},
        "channels_in_use": {"type": "integer", "minimum": 0},
        "channel_limit": {"type": "integer", "minimum": 0, "description": "0: no limit set."},
        "updated_at": _nullable(_ref("DateTime")) | {"description": "When the switch last reported; null: never."},
    }),
    "ChannelsUpdate": {
        "type": "object", "required": ["channels_in_use"],
        "properties": {"channels_in_use": {"type": "integer", "minimum": 0, "maximum": MAX_CHANNELS}},
    },
    "CallRecord": {
        "type": "object",
        "description": "One call. Amounts may be JSON numbers (read exactly, never through a float) or "
                       "decimal strings; a record that cannot be stored is reported in the answer's errors.",
        "required": ["customer_id", "call_id", "start_time", "answered", "duration", "billed_duration",
                     "rate", "cost", "charge"],
        "properties": {
            "customer_id": {"type": "integer", "minimum": 1},
            "call_id": {"type": "string", "minLength": 1, "maxLength": 128,
                        "description": "Unique per source: a record sent again counts as a duplicate."},
            "start_time": {"type": "string", "description": "ISO 8601; without an offset it is UTC.",
                           "examples": ["2026-03-01T10:05:00Z"]},
            "destination": {"type": "string", "maxLength": 64},
            "answered": {"type": "boolean"},
            "duration": {"type": "integer", "minimum": 0, "description": "Seconds."},
            "billed_duration": {"type": "integer", "minimum": 0, "description": "Seconds."},
            "rate": {"type": ["string", "number"], "description": "Up to 6 decimal places."},
            "cost": {"type": ["string", "number"], "description": "Up to 4 decimal places."},
            "charge": {"type": ["string", "number"], "description": "Up to 4 decimal places."},
        },
    },
    "CdrBatch": {
        "type": "object", "required": ["source", "records"],
        "properties": {
            "source": {"type": "string", "minLength": 1, "maxLength": 64,
                       "description": "The switch the records come from."},
            "records": {"type": "array", "maxItems": MAX_CDRS, "items": _ref("CallRecord")},
        },
    },
    "CdrResult": _object({
        "inserted": {"type": "integer", "minimum": 0},
        "duplicates": {"type": "integer", "minimum": 0},
        "errors": {"type": "array", "description": "The records that were not stored, by index in `records`.",
                   "items": _object({"index": {"type": "integer", "minimum": 0}, "message": {"type": "string"}})},
    }),
}

INVOICE_PROPERTIES = {
    "number": {"type": "string", "examples": ["INV-000001"]},
    "customer_id": {"type": "integer"},
    "customer_name": {"type": "string"},
    "kind": {"enum": list(INVOICE_KINDS),
             "description": "usage: calls of a period; store: one Store order (time_frame `order`, the order's day)."},
    "time_frame": {"enum": ["daily", "weekly", "monthly", "order"]},
    "period_start": _ref("DateTime") | {"description": "The first moment billed (inclusive)."},
    "period_end": _ref("DateTime") | {"description": "The end of the period, EXCLUSIVE: a November invoice "
                                                     "ends at 2026-12-01T00:00:00+00:00."},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "calls": {"type": "integer", "minimum": 0},
    "billed_seconds": {"type": "integer", "minimum": 0},
    "minutes": _ref("Minutes"),
    "total": _ref("Money"),
    "paid": _ref("Money") | {"description": "The sum of the payments allocated to the invoice."},
    "due": _ref("Money") | {"description": "total - paid (0 when it is paid); 0 for a void invoice."},
    "status": {"enum": list(INVOICE_STATUSES),
               "description": "issued; paid once allocations cover the total; void (cancelled, kept on file)."},
    "created_at": _ref("DateTime"),
    "created_by": {"type": "string", "description": "Who made it: a staff member, or `system` for the daily worker."},
    "voided_at": _nullable(_ref("DateTime")),
    "void_reason": {"type": ["string", "null"]},
}

SCHEMAS |= {
    "AuthorizeRequest": {
        "type": "object", "required": ["direction"],
        "description": "Exactly one of customer_id, sip_username and ip names the customer.",
        "properties": {
            "customer_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "sip_username": {"type": "string", "minLength": 1, "maxLength": 64,
                             "description": "A SIP user of the customer (its Internal Number Block)."},
            "ip": {"type": "string", "maxLength": 45, "examples": ["203.0.113.7"],
                   "description": "The caller's IPv4 or IPv6 address: the customer whose trunk addresses (Main tab → "
                                  "Trunk addresses) list it exactly, else the one with the narrowest range holding it. "
                                  "An address no customer's trunk addresses hold is refused as `unknown_caller`."},
            "direction": {"enum": ["outbound", "inbound"]},
        },
        "oneOf": [{"required": ["customer_id"]}, {"required": ["sip_username"]}, {"required": ["ip"]}],
    },
    "AuthorizeAnswer": {"oneOf": [_ref("Authorization"), _ref("UnknownCaller")]},
    "UnknownCaller": _object({
        "allowed": {"const": False},
        "reason": {"const": "unknown_caller"},
        "message": {"type": "string"},
        "ip": {"type": "string", "description": "The address asked about, as the panel reads it (an IPv4-mapped "
                                                "IPv6 address is given as its IPv4 address)."},
    }, description="Asked by ip, and no customer's trunk addresses hold it."),
    "Authorization": _object({
        "allowed": {"type": "boolean"},
        "reason": {"enum": ["ok", "status", "channel_limit", "daily_spend_limit", "credit_limit"],
                   "description": "ok; status: not Active (Penalty, Inactive, Pending Approval); channel_limit: the "
                                  "channels in use are at the limit; daily_spend_limit: today's spend (UTC) is at the "
                                  "limit; credit_limit: the balance is at or below minus the debit limit (an inbound "
                                  "call passes when the customer allows inbound calls with zero balance)."},
        "message": {"type": "string"},
        "customer_id": {"type": "integer"},
        "status": {"type": "string"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "balance": _ref("Money") | {"description": "The cached balance the answer used."},
        "available": _ref("Money") | {"description": "balance + debit limit."},
        "balance_age_seconds": {"type": "integer", "minimum": 0,
                                "description": "How old the balance is: at most the authorize_balance_max_age "
                                               "option (60 s by default)."},
        "channels_in_use": {"type": "integer", "minimum": 0},
        "channel_limit": {"type": "integer", "minimum": 0, "description": "0: no limit set."},
        "spend_today": _ref("Money"),
        "daily_spend_limit": _nullable(_ref("Money")) | {"description": "null: no limit."},
    }),
    "Invoice": _object(INVOICE_PROPERTIES, description="An invoice as listed: without lines or allocations."),
    "InvoiceLine": _object({
        "position": {"type": "integer", "minimum": 1},
        "description": {"type": "string", "examples": ["Calls 2026-11-02 (UTC)"]},
        "calls": {"type": "integer", "minimum": 0},
        "answered": {"type": "integer", "minimum": 0},
        "billed_seconds": {"type": "integer", "minimum": 0},
        "minutes": _ref("Minutes"),
        "charge": _ref("Money"),
    }, description="One UTC day of the period, as the Summary showed it when the invoice was made."),
    "Allocation": _object({
        "payment_id": {"type": "integer"},
        "amount": _ref("Money"),
        "method": {"enum": list(PAYMENT_METHODS)},
        "reference": {"type": "string"},
        "received_on": {"type": "string", "format": "date"},
    }, description="Part of a Completed payment set against this invoice."),
    "InvoiceDetail": _object(INVOICE_PROPERTIES | {
        "lines": {"type": "array", "items": _ref("InvoiceLine"), "description": "In position order."},
        "allocations": {"type": "array", "items": _ref("Allocation"), "description": "Oldest first."},
    }),
    "InvoicePage": _object({
        "invoices": {"type": "array", "items": _ref("Invoice"), "description": "In id order (oldest first)."},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null on the last page."},
    }),
}


ORDER_LINE = _object({
    "position": {"type": "integer", "minimum": 1},
    "sku": {"type": "string"},
    "name": {"type": "string"},
    "kind": {"enum": list(PRODUCT_KINDS), "description": "What buying it does: " + ", ".join(
        f"{key} ({label})" for key, label in PRODUCT_KINDS.items()) + "."},
    "unit_price": _ref("Money"),
    "quantity": {"type": "integer", "minimum": 1},
    "amount": _ref("Money"),
    "credits": {"type": ["string", "null"], "description": "Support credits per unit (kind credits)."},
    "deployment_id": {"type": ["integer", "null"], "description": "The deployment a plan or licence is for."},
    "organisation_id": {"type": ["integer", "null"], "description": "The customer whose ledger gets the credits."},
    "fulfilled_at": _nullable(_ref("DateTime")) | {"description": "When the line was fulfilled (once); null: not yet."},
}, description="One product of the order as it was bought.")

SCHEMAS |= {
    "OrderLine": ORDER_LINE,
    "Order": _object({
        "number": {"type": "string", "examples": ["O-000001", "Q-000001"]},
        "kind": {"enum": list(ORDER_KINDS)},
        "customer_id": {"type": "integer"},
        "customer_name": {"type": "string"},
        "status": {"enum": list(ORDER_STATUSES), "description": "Orders: Awaiting payment → Paid → Fulfilled, or "
                                                                "Cancelled. Quotes: Quote, then Converted."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "subtotal": _ref("Money"),
        "shipping": _ref("Money"),
        "total": _ref("Money"),
        "payment_method": {"enum": [*STORE_PAYMENT_METHODS, None]},
        "po_number": {"type": ["string", "null"]},
        "invoice_number": {"type": ["string", "null"], "description": "The order's store invoice (none for quotes)."},
        "quote_number": {"type": ["string", "null"], "description": "The quote the order was converted from."},
        "valid_until": _nullable(_ref("DateTime")) | {"description": "Quotes: the last moment it can be converted."},
        "created_at": _ref("DateTime"),
        "paid_at": _nullable(_ref("DateTime")),
        "fulfilled_at": _nullable(_ref("DateTime")),
        "cancelled_at": _nullable(_ref("DateTime")),
        "lines": {"type": "array", "items": _ref("OrderLine"), "description": "In position order."},
    }, description="A Store order or quote with its lines."),
    "OrderPage": _object({
        "orders": {"type": "array", "items": _ref("Order"), "description": "In id order (oldest first)."},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null on the last page."},
    }),
}


def _error(description: str, **extra) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}, **extra}


RESPONSES = {
    "Unauthorized": _error(
        "No bearer token, an unknown or revoked one, or one without the operation's scope.",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="panel"'}}),
    "NotFound": _error("There is nothing with that id or number."),
    "Invalid": _error("The request cannot be used; `message` says why (and `parameter` names a bad query parameter)."),
    "ServerError": _error("The server failed or the database is not answering; nothing was changed."),
}


def _json(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _operation(operation_id: str, summary: str, scope: str, ok: dict, errors: tuple, description: str = "",
               **extra) -> dict:
    responses = {"200": ok, "401": {"$ref": "#/components/responses/Unauthorized"}}
    for code, name in errors:
        responses[code] = {"$ref": f"#/components/responses/{name}"}
    responses["5XX"] = {"$ref": "#/components/responses/ServerError"}
    return {"operationId": operation_id, "summary": summary,
            "description": (description + f"\n\nNeeds a token with the `{scope}` scope.").strip(),
            "security": [{"bearer": [scope]}], "responses": responses, **extra}


CUSTOMER_ID = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "integer"}}

LIST_PARAMETERS = [
    {"name": "customer_id", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
     "description": "Only this customer's invoices (an unknown customer gives an empty list)."},
    {"name": "status", "in": "query", "schema": {"enum": list(INVOICE_STATUSES)}},
    {"name": "period_from", "in": "query", "schema": {"type": "string"}, "examples": {
        "date": {"value": "2026-11-01"}, "date-time": {"value": "2026-11-01T00:00:00Z"}},
     "description": "Invoices whose period STARTS at or after this moment. An ISO 8601 date (midnight UTC) "
                    "or date-time (without an offset: UTC)."},
    {"name": "period_to", "in": "query", "schema": {"type": "string"},
     "description": "Invoices whose period STARTS before this moment (exclusive), written as period_from. "
                    "period_from=2026-11-01&period_to=2026-12-01 selects the periods that start in November, "
                    "including a week that starts on 30 November."},
    {"name": "limit", "in": "query",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"},
     "description": "The `next_cursor` of the page before; opaque. Filters may be kept or changed between "
                    "pages: the cursor only says where in id order to go on."},
]

PATHS = {
    "/customers/{customer_id}/channels": {
        "parameters": [CUSTOMER_ID],
        "get": _operation("getChannels", "Live channels of a customer", "channels",
                          _json("The customer's channels in use and limit.", "Channels"), (("404", "NotFound"),)),
        "put": _operation(
            "putChannels", "Report live channels of a customer", "channels",
            _json("The figure as stored.", "Channels"), (("404", "NotFound"), ("422", "Invalid")),
            "The switch reports how many calls the customer has up now; the panel's Main tab shows it.",
            requestBody={"required": True, "content": {"application/json": {"schema": _ref("ChannelsUpdate")}}}),
    },
    "/cdrs": {
        "post": _operation(
            "postCdrs", "Send call records", "cdrs",
            _json("What was stored; bad records are listed by index and skipped, the rest are stored.",
                  "CdrResult"), (("422", "Invalid"),),
            f"At most {MAX_CDRS:,} records a request. A record already stored (same source and call_id) "
            "counts as a duplicate, so a batch can be sent again safely.",
            requestBody={"required": True, "content": {"application/json": {"schema": _ref("CdrBatch")}}}),
    },
    "/calls/authorize": {
        "post": _operation(
            "authorizeCall", "May this call start?", "calls",
            _json("Allowed, or refused with the reason.", "AuthorizeAnswer"), (("404", "NotFound"), ("422", "Invalid")),
            "The switch asks before every call. The answer reads only cached or indexed figures: the balance is at "
            "most `authorize_balance_max_age` seconds old (Settings → Options; 60 by default) and the answer says how "
            "old. A refusal is a 200 with `allowed: false`, and so is an ip no customer's trunk addresses hold "
            "(reason `unknown_caller`); an unknown customer_id or sip_username is a 404.",
            requestBody={"required": True, "content": {"application/json": {"schema": _ref("AuthorizeRequest")}}}),
    },
    "/invoices": {
        "get": _operation(
            "listInvoices", "List invoices", "invoices",
            _json("A page of invoices and the cursor of the next.", "InvoicePage"), (("422", "Invalid"),),
            "Invoices in id order (the order they were made), a page at a time: follow `next_cursor` until it "
            "is null to read each invoice exactly once. Pages are never counted. An unknown or repeated "
            "parameter is refused (422), so a misspelt filter cannot silently return every invoice.",
            parameters=LIST_PARAMETERS),
    },
    "/invoices/{number}": {
        "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
                        "examples": {"number": {"value": "INV-000001"}}}],
        "get": _operation("getInvoice", "One invoice with its lines and payments", "invoices",
                          _json("The invoice.", "InvoiceDetail"), (("404", "NotFound"),)),
    },
    "/orders": {
        "get": _operation(
            "listOrders", "List Store orders and quotes", "orders",
            _json("A page of orders and the cursor of the next.", "OrderPage"), (("422", "Invalid"),),
            "Orders and quotes in id order, a page at a time: follow `next_cursor` until it is null. Unknown or "
            "repeated parameters are refused (422).",
            parameters=[
                {"name": "customer_id", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
                {"name": "status", "in": "query", "schema": {"enum": list(ORDER_STATUSES)}},
                {"name": "kind", "in": "query", "schema": {"enum": list(ORDER_KINDS)}},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"},
                 "description": "The `next_cursor` of the page before; opaque."},
            ]),
    },
    "/orders/{number}": {
        "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
                        "examples": {"number": {"value": "O-000001"}}}],
        "get": _operation("getOrder", "One Store order or quote with its lines", "orders",
                          _json("The order.", "Order"), (("404", "NotFound"),)),
    },
    "/openapi.json": {
        "get": {"operationId": "getOpenApi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "The OpenAPI 3.1 document of /api/v1.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}},
    },
}


@cache
def document() -> dict:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Customer panel API",
            "version": "1",
            "description": (
                "For machine clients: the switch (channels, call records) and billing systems (invoices, Store "
                "orders). "
                "Every operation but this document needs a bearer token, which an admin issues in Settings "
                "→ API tokens with one or more scopes (" + ", ".join(SCOPES) + "); it is shown once and "
                "only its digest is kept. Money is a decimal string with the currency's own decimal places, "
                "date-times are UTC with +00:00, and invoice periods end exclusively. Errors are JSON: "
                "{\"error\": ..., \"message\": ...}."),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Authorization: Bearer pnl_…"}},
        },
    }
