"""Every route of the app, for every kind of visitor: the page, the right sign-in, 403 or 404.

The routes come from the URL map, so a new route is covered without editing this test. CSRF stays on:
write requests carry the token a browser would have. Every id in a URL is a real object of customer B,
so a 404 is right only where that object is outside the visitor's reach (`within_reach`): a contact of
A asking for B's things, anyone asking for a draft that is not theirs, a contact who is not an Admin
asking for the pages that manage customers. Anywhere else a 404 is a failure.
"""
import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.delayed import changes
from panel.extensions import db
from panel.types import utcnow
from tests.factories import deployment_with_credits
from tests.helpers import PanelClient
from tests.portal.conftest import MARKER

PUBLIC = {"auth.login", "static", "health", "health_db", "portal.login", "portal.verify_email_link",
          "twofactor.passkey_sign_in_options", "twofactor.passkey_sign_in",
          "auth.forgot_password", "auth.set_password", "portal.forgot_password", "portal.set_password",
          # a passkey in place of the code on a mailed link's page (404 for a link that is not open)
          "twofactor.reset_passkey_options", "twofactor.reset_passkey", "portal.reset_passkey_options",
          "portal.reset_passkey"}
ADMIN_ONLY = {"settings"}
ADMIN_ENDPOINTS = {"twofactor.admin", "twofactor.reset_staff", "twofactor.reset_contact",
                   # Settings → Store (panel/store/routes.py)
                   "store.products", "store.product_new", "store.product_edit", "store.product_retire",
                   "store.shipping_rates", "store.rate_new", "store.rate_edit", "store.rate_retire",
                   "store.store_settings"}
# One's own second factor: read-only staff may post to these too.
READONLY_SELF_SERVICE = {"twofactor.verify", "twofactor.enrol_totp", "twofactor.passkey_register_options",
                         "twofactor.passkey_register", "twofactor.passkey_remove", "twofactor.turn_off",
                         "twofactor.new_codes"}
READONLY_FORBIDDEN_FORMS = {"contacts.edit", "contacts.password", "cards.new"}
NOT_FOR_CONTACTS = {"portal.return_to_panel"}  # only a Portal Login can return
NOT_IN_PORTAL_LOGIN = {"portal.password", "portal.two_factor_setup", "portal.sessions_page", "portal.revoke_session",
                       "portal.revoke_other_sessions",  # nor see or end the contact's sessions
                       # nor change the contact's second factors
                       "portal.two_factor_off", "portal.two_factor_codes", "portal.passkey_register_options",
                       "portal.passkey_register", "portal.passkey_remove",
                       # nor pay as the contact: a new card's SetupIntent is for paying (panel/store/rules.py)
                       "portal.checkout_setup_intent"}
# Settings › Sessions lives on the auth blueprint, for admins only.
ADMIN_ONLY_ENDPOINTS = {"auth.staff_sessions", "auth.revoke_staff_session", "auth.revoke_staff_user_sessions",
                        # Settings → Alerts: the Settings area (admins here, as no one else is in a group)
                        "alerts.global_page", "alerts.global_create", "alerts.global_update", "alerts.global_delete"}
# Read-only staff may sign themselves out of their own sessions.
READONLY_SIGN_OUT = {"auth.revoke_my_session", "auth.revoke_my_other_sessions", "auth.revoke_all_my_sessions"}
# The session in the URL is contact B's: no staff user's own, and no staff session for an admin to end.
STAFF_SESSION_URLS = {"auth.revoke_my_session", "auth.revoke_staff_session"}
# They end sessions of the clients under test: covered in tests/portal/test_server_sessions.py.
ENDING = {"auth.revoke_all_my_sessions", "auth.revoke_my_other_sessions", "auth.revoke_staff_user_sessions",
          "portal.revoke_other_sessions"}  # staff may not change the contact's password
# Every URL argument of the app; the `ids` fixture gives each a real object of customer B.
ID_ARGS = ("customer_id", "contact_id", "change_id", "entry_id", "block_id", "user_id", "token_id", "invoice_id",
           "payment_id", "number", "draft_id", "step", "deployment_id", "transaction_id", "session_id", "staff_id",
           "staff_user_id", "passkey_id", "group_id", "product_id", "rate_id", "line_id", "card_id", "order_number",
           "alert_id", "global_alert_id", "job_id", "trunk_id")
# A route that needs an object of another kind under the same argument: a delayed *new* contact.
OWN_IDS = {"contacts.pending_create": {"change_id": "create_change_id"}}
# Requests that remove the object they name: asked after every other one, so that each route finds it.
REMOVING = {"onboarding.cancel", "portal.onboarding_cancel", "settings.group_delete", "portal.store_line_remove",
            "cards.remove", "portal.remove_card"}
# The Store's cart: an Admin or Billing contact's, or staff in Portal Login's (panel/store/rules.py); a contact
# of another type (Ana) browses only (403), where the URL names nothing out of reach.
BUYING = {"portal.store_add", "portal.store_line_quantity", "portal.store_line_remove", "portal.checkout_setup_intent",
          "portal.order_setup_intent",
            "cards.remove", "portal.remove_card"}
# Portal pages that manage customers (their record, contacts, deployments, sub-accounts): an Admin
# contact's, within their tree; nobody else's, their own customer included.
MANAGING = {"portal.edit_customer", "portal.customer_contacts", "portal.new_customer_contact",
            "portal.edit_customer_contact", "portal.customer_deployments", "portal.deployment_create",
            "portal.deployment_licence", "portal.deployment_plan", "portal.onboarding_index", "portal.onboarding_new",
            "portal.onboarding_step", "portal.onboarding_cancel"}
# The portal's Cards tab: the Admin and Billing contacts of their own customer only (Ana is neither).
CARDS = {"portal.cards", "portal.new_card", "portal.card_setup_intent", "portal.create_card", "portal.default_card",
         "portal.remove_card"}
# Who each portal visitor is: their customer, and whether they are an Admin contact (Ben is, Ana is not).
PORTAL_PEOPLE = {"contact of A": ("a", False), "contact of B": ("b", True), "in portal login": ("a", False)}


def urls(app, ids):
    values = {**ids, "filename": "panel.css", "token": "not-a-token"}
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith("api."):
            continue  # bearer tokens: tests/api
        own = {arg: values[name] for arg, name in OWN_IDS.get(rule.endpoint, {}).items()}
        url = rule.build({arg: own.get(arg, values[arg]) for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url, tuple(sorted(rule.arguments))))
    removing = [row for row in found if row[1] == "DELETE" or (row[0] in REMOVING and row[1] == "POST")]
    return [row for row in found if row not in removing] + removing


def within_reach(identity: str, endpoint: str, arguments: tuple) -> bool:
    """Whether every object the URL names (all of customer B) is one `identity` may reach there."""
    if endpoint in ("onboarding.step", "onboarding.cancel"):
        return False  # the draft is Ben's: no staff member's own
    if endpoint in STAFF_SESSION_URLS:
        return False
    if endpoint in ("twofactor.passkey_remove", "portal.passkey_remove"):
        return False  # the passkey is another staff user's: nobody else's to remove
    if not endpoint.startswith("portal.") or identity not in PORTAL_PEOPLE:
        return True  # staff reach every customer
    customer, admin = PORTAL_PEOPLE[identity]
    if endpoint in (MANAGING | CARDS) and not admin:
        return False
    names_an_object = any(arg not in ("filename", "token", "step") for arg in arguments)
    return customer == "b" or not names_an_object


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
        with unit_of_work.unit():
            block = assign_next_block(SYSTEM, world.b)
            sip_user, _ = create_sip_user(SYSTEM, world.b, "1000", None)
        issue_token("matrix", ["channels"])
        unit_of_work.commit()
        token_id = db.session.scalar(sa.select(ApiToken.id))
        change = changes.schedule_update(SYSTEM, "contact", db.session.get(Contact, world.ben), {"phone": "1"},
                                         utcnow().replace(year=utcnow().year + 1))
        unit_of_work.commit()
        entry = db.session.scalar(sa.select(AuditEntry.id).where(AuditEntry.customer_id == world.b).limit(1))
        invoice, payment = _invoice_and_payment(world.b)
        deployment, transaction = deployment_with_credits(world.b)
        created = changes.schedule_create(SYSTEM, "contact", world.b, {"name": "Bo Beta", "email": "bo@beta.example"},
                                          utcnow().replace(year=utcnow().year + 1))
        draft = _onboarding_draft(world)
        passkey = _passkey_of_another_staff_user()
        staff_id, group_id = _staff_user_and_group()
        card = _stored_cards(world.b)
        alert_id, global_alert_id = _alerts(world.b)
        db.session.get(Contact, world.ben).contact_type = "Admin"  # B's contact manages B (and its tree)
        product_id, rate_id, line_id = _store_of(world)
        from panel.store.models import Order

        db.session.add(Order(number="O-900001", kind="order", customer_id=world.b, placed_by="system",
                             status="Awaiting payment", currency="USD"))
        from panel.sessions import WebSession

        web_session = WebSession(token_digest="0" * 64, data="{}", contact_id=world.ben, user_agent="", ip="",
                                 created_at=utcnow(), last_seen_at=utcnow())
        db.session.add(web_session)
        from panel.bulk.models import BulkJob

        bulk_job = BulkJob(kind="edit", parameters='{"channel_limit": 1}', selection='{"ids": [%d]}' % world.b,
                           status="done", done=1, total=1, result="", created_by="system")
        db.session.add(bulk_job)
        from panel.customers.models import TrunkAddress

        trunk = TrunkAddress(customer_id=world.b, network="198.51.100.0/24")
        db.session.add(trunk)
        db.session.commit()
        return {"trunk_id": trunk.id, "job_id": bulk_job.id, "customer_id": world.b, "contact_id": world.ben, "change_id": change.id, "entry_id": entry,
                "block_id": block.id, "user_id": sip_user.id, "token_id": token_id, "invoice_id": invoice.id,
                "number": invoice.number, "payment_id": payment.id, "draft_id": draft.id, "step": 1,
                "deployment_id": deployment.id, "transaction_id": transaction.id, "create_change_id": created.id,
                "session_id": web_session.id, "staff_id": staff_id, "group_id": group_id,
                "staff_user_id": passkey.staff_user_id, "passkey_id": passkey.id, "product_id": product_id,
                "rate_id": rate_id, "line_id": line_id,
                "card_id": card.id, "order_number": "O-900001",
                "alert_id": alert_id, "global_alert_id": global_alert_id}


def _store_of(world):
    """A product sold in B's currency only (EUR: A's customer pays in USD), a shipping rate, and a line of Ben's
    cart."""
    from decimal import Decimal

    from panel.store.catalogue import save_shipping_rate
    from panel.store.models import Cart, CartLine
    from tests.factories import ProductFactory

    product = ProductFactory(name="Beta-only pack", prices={"EUR": "10"})
    rate = save_shipping_rate(SYSTEM, None, "Standard", 0, {"EUR": Decimal(5), "USD": Decimal(6)})
    cart = Cart(contact_id=world.ben, customer_id=world.b, lines=[CartLine(product_id=product.id, quantity=2)])
    db.session.add(cart)
    db.session.commit()
    return product.id, rate.id, cart.lines[0].id


def _stored_cards(customer_id):
    """Two stored cards of customer B (no processor is asked): the default, and the one the URLs name."""
    from panel.cards.models import StoredCard

    cards = [StoredCard(customer_id=customer_id, payment_method_id=f"pm_matrix{n}", brand="visa", last4=f"424{n}",
                        exp_month=11, exp_year=2031, is_default=n == 1) for n in (1, 2)]
    db.session.add_all(cards)
    db.session.commit()
    return cards[1]


def _alerts(customer_id):
    """A low-balance alert of customer B and a global alert."""
    from decimal import Decimal

    from panel.alerts.models import Alert

    alerts = [Alert(customer_id=owner, name=name, figure="balance", operator="<", threshold=Decimal(5))
              for owner, name in ((customer_id, "Low balance"), (None, "Global low balance"))]
    db.session.add_all(alerts)
    db.session.commit()
    return alerts[0].id, alerts[1].id


def _passkey_of_another_staff_user():
    from panel.auth.models import StaffUser
    from panel.twofactor.models import Passkey
    from tests.factories import StaffUserFactory

    other = StaffUserFactory(email="other@example.com")
    passkey = Passkey(staff_user_id=other.id, name="Other's laptop", credential_id="b3RoZXI", public_key=b"k", sign_count=0)
    db.session.add(passkey)
    db.session.commit()
    assert db.session.get(StaffUser, other.id) is not None
    return passkey


def _staff_user_and_group():
    """The `staff` user (whom Settings → Staff users may change) and a permission group."""
    from panel.auth.models import StaffGroup, StaffUser

    group = StaffGroup(name="Billing", grants="invoices:rw payments:rw")
    db.session.add(group)
    db.session.commit()
    return db.session.scalar(sa.select(StaffUser.id).where(StaffUser.role == "staff")), group.id


def _onboarding_draft(world):
    """A New customer draft of customer B's contact (for a sub-account of B)."""
    from panel.onboarding.flow import start_draft

    draft = start_draft({"customer": {"name": "Beta Networks sub-account"}}, 1, contact_id=world.ben, reseller_id=world.b)
    db.session.commit()
    return draft


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
    with unit_of_work.unit():
        invoice = generate(SYSTEM, customer, "daily", [day], now=datetime(2026, 11, 22, tzinfo=UTC)).created[0]
        payment = record_payment(SYSTEM, customer, {"amount": Decimal(1), "method": "Cash", "status": "Completed",
                                                    "received_on": date(2026, 11, 20)})
    return invoice, payment


def request(client: PanelClient, method: str, url: str):
    response = client.client.open(url, method=method, headers={"X-CSRFToken": client.token()},
                                  data={"csrf_token": client.token()} if method == "POST" else None)
    response.close()
    return response


def expected(identity: str, endpoint: str, method: str, arguments: tuple = ()) -> str:
    blueprint = endpoint.split(".")[0]
    if endpoint in PUBLIC:
        return "any"
    if blueprint == "portal":
        if identity in ("anonymous", "readonly", "staff", "admin"):
            return "portal sign-in"
        if identity == "in portal login" and endpoint in NOT_IN_PORTAL_LOGIN:
            return "403"
        if identity != "in portal login" and endpoint in NOT_FOR_CONTACTS:
            return "404"
        if not within_reach(identity, endpoint, arguments):
            return "404"
        return "403" if endpoint in BUYING and identity == "contact of A" else "ok"
    if identity in ("anonymous", "contact of A", "contact of B"):
        return "staff sign-in"
    role = "staff" if identity == "in portal login" else identity
    if (blueprint in ADMIN_ONLY or endpoint in ADMIN_ONLY_ENDPOINTS | ADMIN_ENDPOINTS) and role != "admin":
        return "403"
    if role == "readonly" and endpoint not in READONLY_SELF_SERVICE and (
            (method != "GET" and endpoint not in READONLY_SIGN_OUT) or endpoint in READONLY_FORBIDDEN_FORMS):
        return "403"
    return "ok" if within_reach(identity, endpoint, arguments) else "404"


def check(identity, endpoint, method, url, response, arguments: tuple = ()):
    outcome, code, where = (expected(identity, endpoint, method, arguments), response.status_code,
                            response.headers.get("Location", ""))
    label = (identity, method, url, code, where)
    if outcome == "staff sign-in":
        assert code == 302 and where.startswith("/login"), label
    elif outcome == "portal sign-in":
        assert code == 302 and where.startswith("/portal/login"), label
    elif outcome in ("403", "404"):
        assert code == int(outcome), label
    elif outcome == "ok":  # a refused form or a conflict of state, never "not found"
        assert code < 400 or code in (409, 422), label
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
    for endpoint, method, url, arguments in urls(app, ids):
        if endpoint in ENDING or endpoint in ("auth.logout", "portal.logout", "portal.return_to_panel",
                                              "contacts.portal_login") and method == "POST":
            continue  # they end or change the session under test: covered below and in test_portal_login.py
        check(identity, endpoint, method, url, request(client, method, url), arguments)
        checked += 1
    assert checked >= 40


@pytest.mark.parametrize("identity", ["contact of A", "in portal login"])
def test_the_portal_never_shows_another_customer(app, clients, ids, identity):
    client = clients[identity]
    for endpoint, method, url, _ in urls(app, ids):
        if endpoint.startswith("portal.") and method == "GET" and endpoint not in PUBLIC:
            body = client.get(url).get_data(as_text=True)
            assert "Beta Networks" not in body and "Ben Beta" not in body and "Beta public note" not in body, url


@pytest.mark.parametrize("identity", ["contact of A", "contact of B", "in portal login"])
def test_private_notes_hashes_and_tokens_never_reach_a_portal_response(app, clients, identity):
    client = clients[identity]
    bodies = []
    for endpoint, method, url, _ in urls(app, dict.fromkeys(ID_ARGS + ("create_change_id",), 1)):
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
