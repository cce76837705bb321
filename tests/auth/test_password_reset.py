"""Password reset by e-mail, on the portal and on the staff sign-in: the same answer for a known and an
unknown address, a signed single-use link valid one hour, the project's password rules, other sessions
ended, audited, and throttled per e-mail and per address."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from panel.audit.models import AuditEntry
from panel.auth import links
from panel.auth.models import AuthLink
from panel.contacts.models import Contact
from panel.extensions import db
from tests.factories import ContactFactory
from tests.portal.conftest import world  # noqa: F401  (a fixture: two customers and their contacts)
from tests.helpers import CONTACT_PASSWORD, PASSWORD, PanelClient, portal_sign_in, staff_sign_in
from tests.mail_links import last_link, mailed

NEW = "my new long passphrase"
SIDES = {"portal": ("/portal/forgot-password", "/portal/login", "ana@alpha.example", CONTACT_PASSWORD),
         "staff": ("/forgot-password", "/login", "staff@example.com", PASSWORD)}


def _body(response):
    return response.get_data(as_text=True)


def _sign_in(client, side, email, password):
    return client.post(SIDES[side][1], {"email": email, "password": password})


@pytest.mark.parametrize("side", SIDES)
def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(app, world, side):  # noqa: F811
    forgot, _, email, _ = SIDES[side]
    client = PanelClient(app.test_client())
    known = client.post(forgot, {"email": email.upper()})
    unknown = client.post(forgot, {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    def strip(body):  # the address typed and the CSRF token (signed with a time) aside
        body = body.replace(email.upper(), "").replace("nobody@example.com", "")
        return re.sub(r'"X-CSRFToken": "[^"]+"|name="csrf_token" type="hidden" value="[^"]+"', "", body)

    assert strip(_body(known)) == strip(_body(unknown)) and "If that address belongs to an account" in _body(known)
    assert len(mailed(app.instance_path, email)) == 1 and not mailed(app.instance_path, "nobody@example.com")
    assert client.get(SIDES[side][1]).status_code == 200 and "I forgot my password" in _body(client.get(SIDES[side][1]))


@pytest.mark.parametrize("side", SIDES)
def test_the_link_sets_a_new_password_once_and_ends_other_sessions(app, world, side):  # noqa: F811
    forgot, _, email, old = SIDES[side]
    other = portal_sign_in(app, email) if side == "portal" else staff_sign_in(app, email)
    home = "/portal/" if side == "portal" else "/customers"
    assert other.get(home).status_code == 200
    client = PanelClient(app.test_client())
    client.post(forgot, {"email": email})
    link = last_link(app.instance_path, email)
    assert ("/portal/set-password/" in link) == (side == "portal")
    assert "one hour" in mailed(app.instance_path, email)[-1].get_content()
    assert client.get(link).status_code == 200
    mismatch = client.post(link, {"new": NEW, "repeat": NEW + "x"})
    assert mismatch.status_code == 422 and "not the same" in _body(mismatch)
    assert client.post(link, {"new": "short", "repeat": "short"}).status_code == 422
    done = client.post(link, {"new": NEW, "repeat": NEW})
    assert done.status_code == 303 and done.headers["Location"] == SIDES[side][1]
    assert other.get(home).status_code == 302  # the session opened on the old password has ended
    assert _sign_in(PanelClient(app.test_client()), side, email, old).status_code == 401
    assert _sign_in(PanelClient(app.test_client()), side, email, NEW).status_code == 303
    assert PanelClient(app.test_client()).post(link, {"new": NEW + "2", "repeat": NEW + "2"}).status_code == 404
    with app.app_context():
        table = "contact" if side == "portal" else "staff_user"
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == table,
                                                               AuditEntry.action == "PUT")).all()[-1]
        assert entry.comment == "Password reset through the e-mailed link" and email in entry.user_label
        assert "[secret]" in entry.data and NEW not in entry.data


def test_a_link_expires_after_one_hour_and_a_newer_one_replaces_it(app, world):  # noqa: F811
    client = PanelClient(app.test_client())
    client.post("/portal/forgot-password", {"email": "ana@alpha.example"})
    first = last_link(app.instance_path, "ana@alpha.example")
    client.post("/portal/forgot-password", {"email": "ana@alpha.example"})
    second = last_link(app.instance_path, "ana@alpha.example")
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200
    with app.app_context():
        row = db.session.scalars(sa.select(AuthLink).where(AuthLink.used_at.is_(None))).one()
        assert row.expires_at - row.created_at == timedelta(hours=1)
        row.expires_at = row.created_at
        db.session.commit()
    assert client.get(second).status_code == 404


def test_a_portal_link_is_not_a_staff_link_and_a_forged_one_is_refused(app, world):  # noqa: F811
    client = PanelClient(app.test_client())
    client.post("/portal/forgot-password", {"email": "ana@alpha.example"})
    link = last_link(app.instance_path, "ana@alpha.example")
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/set-password/{token}").status_code == 404
    assert client.get("/portal/set-password/x" + token[1:]).status_code == 404
    assert client.get("/portal/set-password/" + "A" * 500).status_code == 404


def test_a_link_is_spent_once_even_by_two_racing_requests(app, world):  # noqa: F811
    with app.app_context():
        contact = db.session.get(Contact, world.ana)
        token = links.issue("portal_reset", contact=contact)
        db.session.commit()
        links.spend("portal_reset", token)  # the first request, not yet committed...
        # ...and a second that read the link as open before the first marked it used:
        link = db.session.scalar(sa.select(AuthLink))
        statement = sa.update(AuthLink).where(AuthLink.id == link.id, AuthLink.used_at.is_(None)).values(used_at=link.created_at)
        assert db.session.execute(statement).rowcount == 0
        db.session.rollback()


def test_a_deactivated_contact_gets_no_link(app, world):  # noqa: F811
    with app.app_context():
        db.session.get(Contact, world.ana).active = False
        db.session.commit()
    response = PanelClient(app.test_client()).post("/portal/forgot-password", {"email": "ana@alpha.example"})
    assert response.status_code == 200 and "If that address belongs" in _body(response)
    assert not mailed(app.instance_path, "ana@alpha.example")


def test_requests_are_throttled_per_email_and_per_address(app, world):  # noqa: F811
    client = PanelClient(app.test_client())
    for _ in range(links.RESET_MAX_PER_EMAIL + 2):
        assert client.post("/portal/forgot-password", {"email": "ana@alpha.example"}).status_code == 200
    assert len(mailed(app.instance_path, "ana@alpha.example")) == links.RESET_MAX_PER_EMAIL
    for i in range(links.RESET_MAX_PER_IP - links.RESET_MAX_PER_EMAIL - 2):
        assert client.post("/portal/forgot-password", {"email": f"x{i}@example.com"}).status_code == 200
    refused = client.post("/portal/forgot-password", {"email": "someone@example.com"})
    assert refused.status_code == 429 and "Try again in" in _body(refused)
    assert 'value="someone@example.com"' in _body(refused)
    other = PanelClient(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "192.0.2.50"
    assert other.post("/forgot-password", {"email": "staff@example.com"}).status_code == 200


def _links_for(app, contact_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuthLink)
                                 .where(AuthLink.contact_id == contact_id))


@pytest.mark.parametrize("typed", ["ANA@Alpha.Example", "\uff41\uff4e\uff41\uff20alpha.example",
                                   "  ana@ALPHA.example "])
def test_the_portal_address_typed_in_another_case_or_width_finds_the_contact(app, world, typed):  # noqa: F811
    """Full-width letters and "＠" are their plain forms (NFKC), and case does not matter: the sign-in's rule."""
    assert PanelClient(app.test_client()).post("/portal/forgot-password", {"email": typed}).status_code == 200
    assert _links_for(app, world.ana) == 1 and len(mailed(app.instance_path, "ana@alpha.example")) == 1


def test_an_address_that_differs_beyond_ascii_case_still_finds_its_contact(app, world):  # noqa: F811
    """"Straße" and "STRASSE" are one login (Unicode case folding), which lower() alone does not make them."""
    with app.app_context():
        jorg = ContactFactory(customer_id=world.b, name="Jörg Straße", email="jörg.straße@beta.example").id
    client = PanelClient(app.test_client())
    assert client.post("/portal/forgot-password", {"email": "JÖRG.STRASSE@BETA.EXAMPLE"}).status_code == 200
    assert _links_for(app, jorg) == 1


def test_spellings_of_one_address_share_its_hourly_links(app, world):  # noqa: F811
    client = PanelClient(app.test_client())
    spellings = ["ana@alpha.example", "ANA@ALPHA.EXAMPLE", "\uff41na@alpha.example"]
    for i in range(links.RESET_MAX_PER_EMAIL + 2):
        assert client.post("/portal/forgot-password", {"email": spellings[i % 3]}).status_code == 200
    assert len(mailed(app.instance_path, "ana@alpha.example")) == links.RESET_MAX_PER_EMAIL


def test_an_address_with_an_invisible_character_matches_no_one_and_is_still_answered(app, world):  # noqa: F811
    response = PanelClient(app.test_client()).post("/portal/forgot-password", {"email": "ana\u200b@alpha.example"})
    assert response.status_code == 200 and "If that address belongs" in _body(response)
    assert _links_for(app, world.ana) == 0


@pytest.mark.parametrize("forgot", ["/portal/forgot-password", "/forgot-password"])
def test_an_address_of_the_longest_length_allowed_is_answered(app, world, forgot):  # noqa: F811
    """The throttle stores the address with its "portal:" or "staff:" in front, in 254 characters."""
    longest = "a" * (254 - len("@example.com")) + "@example.com"
    response = PanelClient(app.test_client()).post(forgot, {"email": longest})
    assert response.status_code == 200 and "If that address belongs" in _body(response)


def _plan(connection, statement, parameters) -> str:
    if connection.dialect.name == "postgresql":
        return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    return "\n".join(str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))


def _sent(app, pattern: str, post) -> list:
    """The statements (and their parameters) matching `pattern` that `post(client)` sends."""
    sent = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        if re.search(pattern, statement):
            sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        post(PanelClient(app.test_client()))
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return sent


def _plans(app, sent) -> list[str]:
    """The plans of `sent`; PostgreSQL is told to avoid sequential scans, which a near-empty test table would
    make the cheapest (a plan with no usable index still shows one)."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans = [_plan(connection, statement, parameters) for statement, parameters in sent]
        db.session.rollback()
    return plans


def test_the_contact_is_found_through_the_email_key_index(app, world):  # noqa: F811
    """On 10M contacts a public, unauthenticated page must not read the table: every look-up of a contact the
    request sends reads an index, the address's one by the key (uq_contact_email_key; on PostgreSQL the planner
    may as well take ix_contact_email_prefix, migration 0028, a B-tree on the same column)."""
    sent = _sent(app, r"\bFROM contact\s+WHERE",
                 lambda client: client.post("/portal/forgot-password", {"email": "ANA@alpha.example"}))
    plans = _plans(app, sent)
    assert plans and not any("Seq Scan on contact" in plan or "SCAN contact" in plan for plan in plans), plans
    by_key = ("Index Cond: ((email_key)::text = 'ana@alpha.example'", "(email_key=?)")  # PostgreSQL, SQLite
    assert any(form in plan for plan in plans for form in by_key), plans


@pytest.mark.parametrize("side", SIDES)
def test_a_new_link_closes_the_open_ones_through_the_index_of_their_owner(app, world, side):  # noqa: F811
    """Links are kept once spent, so auth_link grows with every reset: closing the person's open links reads
    only theirs."""
    forgot, _, email, _ = SIDES[side]
    sent = _sent(app, r"^UPDATE auth_link\b", lambda client: client.post(forgot, {"email": email}))
    plans = _plans(app, sent)
    owner = "contact_id" if side == "portal" else "staff_user_id"
    assert len(plans) == 1 and f"ix_auth_link_{owner}" in plans[0], plans
    assert "Seq Scan" not in plans[0] and "SCAN auth_link" not in plans[0], plans


def test_bad_input_is_422_with_the_input_kept(app, world):
    client = PanelClient(app.test_client())
    response = client.post("/portal/forgot-password", {"email": ""})
    assert response.status_code == 422
    long = client.post("/forgot-password", {"email": "a" * 300 + "@example.com"})
    assert long.status_code == 422
