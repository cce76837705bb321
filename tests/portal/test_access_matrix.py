"""Every route of the app, for every kind of visitor: the page, the right sign-in, 403 or 404.

The routes come from the URL map, so a new route is covered without editing this test. CSRF stays on:
write requests carry the token a browser would have.
"""
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.delayed import changes
from panel.extensions import db
from panel.types import utcnow
from tests.conftest import PanelClient
from tests.portal.conftest import MARKER

PUBLIC = {"auth.login", "static", "health", "health_db", "portal.login", "portal.verify_email_link"}
ADMIN_ONLY = {"settings"}
READONLY_FORBIDDEN_FORMS = {"contacts.edit", "contacts.password"}
NOT_FOR_CONTACTS = {"portal.return_to_panel"}  # only a Portal Login can return
NOT_IN_PORTAL_LOGIN = {"portal.password"}  # staff may not change the contact's password
# Every URL argument of the app; the `ids` fixture gives each a real object of customer B.
ID_ARGS = ("customer_id", "contact_id", "change_id", "entry_id", "block_id", "user_id", "token_id", "invoice_id",
           "payment_id", "number", "draft_id", "step", "deployment_id", "transaction_id")


def urls(app, ids):
    values = {**ids, "filename": "panel.css", "token": "not-a-token"}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith("api."):
            continue  # bearer tokens: tests/api
        url = rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}, key=lambda m: m == "DELETE"):
            yield rule.endpoint, method, url


@pytest.fixture
def ids(app, world):
    """Objects of customer B, so that contacts of A ask for another customer's things by id."""
    from panel.api.models import ApiToken
    from panel.api.tokens import issue_token
    from panel.contacts.models import Contact
    from panel.numbering.allocation import NumberRange, assign_next_block, save_range
    from panel.numbering.sip import create_sip_user

    with app.app_context():
        save_range(NumberRange(1000, 9999, 100))
        db.session.commit()
        block = assign_next_block(world.b)
        sip_user, _ = create_sip_user(world.b, "1000", None)
        issue_token("matrix", ["channels"])
        unit_of_work.commit()
        token_id = db.session.scalar(sa.select(ApiToken.id))
        change = changes.schedule_update(SYSTEM, "contact", db.session.get(Contact, world.ben), {"phone": "1"},
                                         utcnow().replace(year=utcnow().year + 1))
        unit_of_work.commit()
        entry = db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.customer_id == world.b).limit(1))
        invoice, payment = _invoice_and_payment(world.b)
        deployment, transaction = _deployment_and_credits(world.b)
        draft = _onboarding_draft(world)
        return {"customer_id": world.b, "contact_id": world.ben, "change_id": change.id, "entry_id": entry,
                "block_id": block.id, "user_id": sip_user.id, "token_id": token_id, "invoice_id": invoice.id,
                "number": invoice.number, "payment_id": payment.id, "draft_id": draft.id, "step": 1,
                "deployment_id": deployment.id, "transaction_id": transaction.id}


def _onboarding_draft(world):
    """A New customer draft of customer B's contact (for a sub-account of B)."""
    from panel.onboarding.flow import start_draft

    draft = start_draft({"customer": {"name": "Beta Networks sub-account"}}, 1, contact_id=world.ben, reseller_id=world.b)
    db.session.commit()
    return draft


def _deployment_and_credits(customer_id):
    """A deployment of customer B and a purchase of support credits by B."""
    from decimal import Decimal

    from panel.customers.models import Customer
    from panel.deployments.records import create_deployment
    from panel.support.credits import purchase

    deployment = create_deployment(customer_id, "PBX", "Beta Networks PBX")
    transaction = purchase(db.session.get(Customer, customer_id), Decimal(5), "Other", "PO-B")
    return deployment, transaction


def _invoice_and_payment(customer_id):
    """An issued invoice of customer B for 2 November 2026, and a Completed payment of B."""
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from panel.calls.models import HourlySummary
    from panel.customers.models import Customer
    from panel.invoices.billing import generate
    from panel.invoices.payments import record_payment

    day = datetime(2026, 11, 2, tzinfo=UTC)
    db.session.add(HourlySummary(customer_id=customer_id, hour=day, calls=3, answered=2, seconds=90, billed_seconds=120,
                                 cost=Decimal("0.1"), charge=Decimal("0.2")))
    db.session.commit()
    customer = db.session.get(Customer, customer_id)
    invoice = generate(customer, "daily", [day], now=datetime(2026, 11, 22, tzinfo=UTC)).created[0]
    payment = record_payment(customer, {"amount": Decimal(1), "method": "Cash", "status": "Completed",
                                        "received_on": date(2026, 11, 20)})
    return invoice, payment


def request(client: PanelClient, method: str, url: str):
    response = client.client.open(url, method=method, headers={"X-CSRFToken": client.token()},
                                  data={"csrf_token": client.token()} if method == "POST" else None)
    response.close()
    return response


def expected(identity: str, endpoint: str, method: str) -> str:
    blueprint = endpoint.split(".")[0]
    if endpoint in PUBLIC:
        return "any"
    if blueprint == "portal":
        if identity in ("anonymous", "readonly", "staff", "admin"):
            return "portal sign-in"
        if identity == "in portal login":
            return "403" if endpoint in NOT_IN_PORTAL_LOGIN else "ok"
        return "404" if endpoint in NOT_FOR_CONTACTS else "ok"
    if identity in ("anonymous", "contact of A", "contact of B"):
        return "staff sign-in"
    role = "staff" if identity == "in portal login" else identity
    if blueprint in ADMIN_ONLY and role != "admin":
        return "403"
    if role == "readonly" and (method != "GET" or endpoint in READONLY_FORBIDDEN_FORMS):
        return "403"
    return "ok"


def check(identity, endpoint, method, url, response):
    outcome, code, where = expected(identity, endpoint, method), response.status_code, response.headers.get("Location", "")
    label = (identity, method, url, code, where)
    if outcome == "staff sign-in":
        assert code == 302 and where.startswith("/login"), label
    elif outcome == "portal sign-in":
        assert code == 302 and where.startswith("/portal/login"), label
    elif outcome in ("403", "404"):
        assert code == int(outcome), label
    elif outcome == "ok":
        assert code < 400 or code in (404, 409, 422), label
        assert not where.startswith("/login") and not where.startswith("/portal/login"), label
    else:
        assert code < 500, label


@pytest.fixture
def clients(app, staff_users, world, portal_client, impersonating):
    def staff(role):
        client = PanelClient(app.test_client())
        client.login(staff_users[role])
        return client

    return {
        "anonymous": PanelClient(app.test_client()),
        "readonly": staff("readonly"),
        "staff": staff("staff"),
        "admin": staff("admin"),
        "contact of A": portal_client(world.ana_email),
        "contact of B": portal_client(world.ben_email),
        "in portal login": impersonating,
    }


IDENTITIES = ["anonymous", "readonly", "staff", "admin", "contact of A", "contact of B", "in portal login"]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_route_answers_each_visitor_as_it_should(app, clients, ids, identity):
    client = clients[identity]
    checked = 0
    for endpoint, method, url in urls(app, ids):
        if endpoint in ("auth.logout", "portal.logout", "portal.return_to_panel", "contacts.portal_login") and method == "POST":
            continue  # they end or change the session under test: covered below and in test_portal_login.py
        check(identity, endpoint, method, url, request(client, method, url))
        checked += 1
    assert checked >= 40


@pytest.mark.parametrize("identity", ["contact of A", "in portal login"])
def test_the_portal_never_shows_another_customer(app, clients, identity):
    client = clients[identity]
    for endpoint, method, url in urls(app, dict.fromkeys(ID_ARGS, 0)):
        if endpoint.startswith("portal.") and method == "GET" and endpoint not in PUBLIC:
            body = client.get(url).get_data(as_text=True)
            assert "Beta Networks" not in body and "Ben Beta" not in body and "Beta public note" not in body, url


@pytest.mark.parametrize("identity", ["contact of A", "contact of B", "in portal login"])
def test_private_notes_hashes_and_tokens_never_reach_a_portal_response(app, clients, identity):
    client = clients[identity]
    bodies = []
    for endpoint, method, url in urls(app, dict.fromkeys(ID_ARGS, 1)):
        if not endpoint.startswith("portal.") or endpoint in ("portal.logout", "portal.return_to_panel"):
            continue
        if method == "GET":
            bodies.append(client.get(url).get_data(as_text=True))
            bodies.append(client.get(url, htmx=True).get_data(as_text=True))
        else:  # bad input: the error pages and re-rendered forms
            bodies.append(client.post(url, {"name": "", "code": "x", "new": "short", "repeat": "other",
                                            "new_email": "not an email"}).get_data(as_text=True))
    bodies.append(client.get("/portal/no-such-page").get_data(as_text=True))
    for body in bodies:
        assert MARKER not in body
        assert "$2b$" not in body and "password_hash" not in body and "token_digest" not in body
        if identity != "in portal login":
            assert "staff@example.com" not in body and "admin@example.com" not in body


def test_ending_the_session_routes(app, clients, world):
    contact = clients["contact of A"]
    assert contact.post("/portal/return").status_code == 404
    assert contact.post("/portal/logout").status_code == 303
    assert contact.get("/portal/").headers["Location"].startswith("/portal/login")
    staff = clients["staff"]
    assert staff.post("/portal/logout").headers["Location"].startswith("/portal/login")
    readonly = clients["readonly"]
    assert readonly.post(f"/customers/{world.a}/contacts/{world.ana}/portal-login").status_code == 403
    assert clients["contact of B"].post(f"/customers/{world.a}/contacts/{world.ana}/portal-login").headers["Location"].startswith("/login")
