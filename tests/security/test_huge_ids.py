"""A number id of 2**63 or more (or one past a 32-bit integer, PostgreSQL's INTEGER) in any URL is not found,
never a 500: every int route, as staff and as a contact, on SQLite and PostgreSQL."""
import pytest
from werkzeug.routing import IntegerConverter

from tests.factories import ContactFactory, CustomerFactory
from tests.helpers import portal_sign_in

HUGE = (2**63, 2**64 + 7, 2**31)


def int_routes(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(converter, IntegerConverter) for converter in rule._converters.values()):
            yield rule


def urls(app, number):
    for rule in int_routes(app):
        values = {name: (number if isinstance(conv, IntegerConverter) else "x")
                  for name, conv in rule._converters.items()}
        # Build the path by hand: url_for itself refuses a number above the converter's max.
        path = rule.rule
        for name, conv in rule._converters.items():
            path = path.replace(f"<{'int:' if isinstance(conv, IntegerConverter) else ''}{name}>", str(values[name]))
            path = path.replace(f"<{name}>", str(values[name])).replace(f"<path:{name}>", "x")
        yield rule, path


def test_every_int_route_is_walked(app):
    assert len(list(int_routes(app))) > 40


@pytest.mark.parametrize("number", HUGE)
def test_huge_ids_answer_404_or_a_refusal_never_500(app, as_role, number):
    with app.app_context():
        customer = CustomerFactory().id
        ContactFactory(customer_id=customer, email="huge@example.com", contact_type="Admin")
    clients = {"staff": as_role("admin"), "contact": portal_sign_in(app, "huge@example.com")}
    problems = []
    for who, client in clients.items():
        for rule, path in urls(app, number):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.get(path) if method == "GET" else client.client.open(
                    path, method=method, headers={"X-CSRFToken": client.token(), "HX-Request": "true"})
                if response.status_code >= 500:
                    problems.append((who, method, path, response.status_code))
                if response.status_code not in (302, 303, 401, 403, 404, 405):
                    problems.append((who, method, path, response.status_code))
    assert problems == []
