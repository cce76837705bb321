"""The OpenAPI document at /api/v1/openapi.json: public, well formed, naming every /api/v1 route, and true
to the API: every documented answer of every operation is produced for real and checked against it."""
import re
from datetime import datetime

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from panel import unit_of_work
from panel.api.invoices import LIST_PARAMETERS
from panel.api.models import SCOPES
from panel.api.tokens import issue_token
from tests.api.test_invoices_api import make_invoices
from tests.api.test_orders_api import placed_order_and_quote

SPEC_URL = "/api/v1/openapi.json"
METHODS = ("get", "put", "post", "patch", "delete")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    # jsonschema checks date-time only with an extra package; this is RFC 3339 with a real date.
    if isinstance(value, str):
        if not RFC3339.fullmatch(value):
            raise ValueError(f"{value!r} is not an RFC 3339 date-time")
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@pytest.fixture
def spec(client):
    response = client.client.get(SPEC_URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def lookup(spec: dict, node: dict) -> dict:
    """The node, or what its "$ref" (to somewhere in the document) points at."""
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node["$ref"]
        target = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def validator(spec: dict, schema: dict) -> Draft202012Validator:
    """A validator for one schema of the document; its "#/components/..." references resolve because the
    document's components are embedded at the root."""
    return Draft202012Validator({**schema, "components": spec["components"]}, format_checker=FORMATS)


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_document_is_public_openapi_3_1(client, spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": "/api/v1"}]
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "Authorization: Bearer pnl_…"}


def test_every_schema_is_json_schema_2020_12_and_every_reference_resolves(spec):
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = set(refs(spec))
    assert "#/components/schemas/Invoice" in found
    for ref in found:
        lookup(spec, {"$ref": ref})  # a KeyError names a dangling reference


def test_every_operation_is_named_secured_and_answers_401_without_a_token(spec):
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))
    for path, _, op in operations(spec):
        if path == "/openapi.json":
            assert op["security"] == []
            continue
        [requirement] = op["security"]
        assert set(requirement) == {"bearer"} and set(requirement["bearer"]) <= set(SCOPES)
        assert "401" in op["responses"] and "5XX" in op["responses"]
        declared = {p["name"] for p in spec["paths"][path].get("parameters", []) + op.get("parameters", [])
                    if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path


def test_every_api_route_is_documented_and_nothing_else(app, spec):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == {(path, method) for path, method, _ in operations(spec)}


def test_the_list_documents_exactly_the_parameters_it_takes(spec):
    documented = [p["name"] for p in spec["paths"]["/invoices"]["get"]["parameters"]]
    assert documented == list(LIST_PARAMETERS)


@pytest.fixture
def calls(app, customer):
    """Requests that between them produce every documented answer: (method, path template, path, body, auth)."""
    with app.app_context():
        ids = make_invoices()
        full = issue_token("everything", list(SCOPES))
        unit_of_work.commit()
        order_number, quote_number = placed_order_and_quote()
    acme = ids["acme"]
    record = {"customer_id": acme, "call_id": "c1", "start_time": "2026-11-20T10:00:00Z", "destination": "4420",
              "answered": True, "duration": 60, "billed_duration": 60, "rate": "0.010000", "cost": "0.0100",
              "charge": 0.015}
    channels = "/customers/{customer_id}/channels"
    return full, [
        ("GET", channels, f"/customers/{acme}/channels", None, True),
        ("GET", channels, f"/customers/{acme}/channels", None, False),
        ("GET", channels, "/customers/999999/channels", None, True),
        ("PUT", channels, f"/customers/{acme}/channels", {"channels_in_use": 4}, True),
        ("PUT", channels, f"/customers/{acme}/channels", {"channels_in_use": 4}, False),
        ("PUT", channels, "/customers/999999/channels", {"channels_in_use": 4}, True),
        ("PUT", channels, f"/customers/{acme}/channels", {"channels_in_use": -1}, True),
        ("POST", "/cdrs", "/cdrs", {"source": "sw-1", "records": [record, record | {"call_id": "c2", "duration": -1}]},
         True),
        ("POST", "/cdrs", "/cdrs", {"source": "sw-1", "records": [record | {"call_id": "c3", "rate": 0.01}]}, True),
        ("POST", "/cdrs", "/cdrs", {"source": "sw-1", "records": []}, False),
        ("POST", "/cdrs", "/cdrs", {"records": []}, True),
        ("GET", "/invoices", "/invoices?limit=2", None, True),
        ("GET", "/invoices", "/invoices?status=void", None, True),
        ("GET", "/invoices", f"/invoices?customer_id={ids['beta']}&period_from=2026-10-01&period_to=2026-11-01",
         None, True),
        ("GET", "/invoices", "/invoices", None, False),
        ("GET", "/invoices", "/invoices?limit=0", None, True),
        ("GET", "/invoices/{number}", "/invoices/INV-000002", None, True),  # paid in part
        ("GET", "/invoices/{number}", "/invoices/INV-000003", None, True),  # void
        ("GET", "/invoices/{number}", "/invoices/INV-000002", None, False),
        ("GET", "/invoices/{number}", "/invoices/INV-404404", None, True),
        ("GET", "/orders", "/orders?limit=1", None, True),
        ("GET", "/orders", "/orders?kind=quote", None, True),
        ("GET", "/orders", "/orders", None, False),
        ("GET", "/orders", "/orders?status=Lost", None, True),
        ("GET", "/orders/{number}", f"/orders/{order_number}", None, True),
        ("GET", "/orders/{number}", f"/orders/{quote_number}", None, True),
        ("GET", "/orders/{number}", f"/orders/{order_number}", None, False),
        ("GET", "/orders/{number}", "/orders/O-404404", None, True),
        ("POST", "/calls/authorize", "/calls/authorize", {"customer_id": acme, "direction": "outbound"}, True),
        ("POST", "/calls/authorize", "/calls/authorize", {"customer_id": acme, "direction": "outbound"}, False),
        ("POST", "/calls/authorize", "/calls/authorize", {"customer_id": 999999, "direction": "inbound"}, True),
        ("POST", "/calls/authorize", "/calls/authorize", {"direction": "sideways"}, True),
        ("POST", "/calls/authorize", "/calls/authorize", {"ip": "198.51.100.9", "direction": "outbound"}, True),
        ("GET", "/openapi.json", "/openapi.json", None, False),
    ]


def test_real_answers_of_every_operation_match_the_document(client, spec, calls):
    token, requests = calls
    covered = set()
    for method, template, path, body, authorised in requests:
        op = spec["paths"][template][method.lower()]
        headers = {"Authorization": f"Bearer {token}"} if authorised else {}
        response = client.client.open("/api/v1" + path, method=method, json=body, headers=headers)
        status = str(response.status_code)
        assert status in op["responses"], f"{method} {path}: {status} is not documented"
        documented = lookup(spec, op["responses"][status])
        assert response.mimetype in documented["content"], f"{method} {path}: {response.mimetype}"
        schema = documented["content"][response.mimetype]["schema"]
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator(spec, schema).iter_errors(response.get_json())]
        assert errors == [], f"{method} {path} → {status}"
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{method} {path} → {status} lacks {header}"
        covered.add((template, method.lower(), status))
        if status == "200" and body is not None and not response.get_json().get("errors"):
            # What the API took whole is what the document asks for.
            validator(spec, op["requestBody"]["content"]["application/json"]["schema"]).validate(body)
    documented = {(path, method, status) for path, method, op in operations(spec)
                  for status in op["responses"] if status != "5XX"}
    assert documented - covered == set(), "documented answers no request above produced"


def test_the_document_refuses_what_the_api_would_not_send(spec):
    invoice = validator(spec, {"$ref": "#/components/schemas/Invoice"})
    good = {"number": "INV-000001", "customer_id": 1, "customer_name": "Acme", "kind": "usage", "time_frame": "daily",
            "period_start": "2026-10-01T00:00:00+00:00", "period_end": "2026-10-02T00:00:00+00:00",
            "currency": "USD", "calls": 1, "billed_seconds": 60, "minutes": "1.00", "total": "0.10",
            "paid": "0.00", "due": "0.10", "status": "issued", "created_at": "2026-11-01T10:00:00.5+00:00",
            "created_by": "system", "voided_at": None, "void_reason": None}
    assert invoice.is_valid(good)
    for change in ({"total": 0.1}, {"total": "0.1"}, {"total": "0.1000"}, {"minutes": "1"}, {"period_start": "2026-10-01"},
                   {"status": "open"}, {"lines": []}, {"period_end": "2026-10-02T00:00:00"}):
        assert not invoice.is_valid(good | change), change
