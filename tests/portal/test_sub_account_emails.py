"""The portal's sub-account contact form never tells whether an e-mail is another customer's contact's login:
a taken and an unused address get the same answer, and the login changes only when the new address
confirms it (where the link says if the address is taken)."""
import html
import re

import sqlalchemy as sa

from panel.contacts.models import Contact
from panel.extensions import db
from tests.helpers import PanelClient, portal_sign_in
from tests.security.test_login_emails import contact, last_link, setup, sub_form


def _answer(client, response) -> tuple[int, str, str]:
    """Status, where it goes, and the page it leads to, with the address typed and the CSRF tokens aside."""
    follow = client.get(response.headers.get("Location", "")) if response.status_code == 303 else response
    body = html.unescape(follow.get_data(as_text=True))
    body = re.sub(r'name="csrf_token"[^>]*value="[^"]+"|"X-CSRFToken": "[^"]+"|data-csrf="[^"]+"', "", body)
    return response.status_code, response.headers.get("Location", ""), body


def test_a_taken_and_an_unused_address_get_the_same_answer(app):
    top, sub, boss, worker = setup(app)
    client = portal_sign_in(app, "bo@top.example")
    url = f"/portal/customers/{sub}/contacts/{worker}/edit"
    unused = _answer(client, client.post(url, sub_form("Wu Worker", "fresh@nowhere.example")))
    taken = _answer(client, client.post(url, sub_form("Wu Worker", "taken@other.example")))
    assert unused[:2] == taken[:2] == (303, f"/portal/customers/{sub}/contacts")
    assert unused[2].replace("fresh@nowhere.example", "X") == taken[2].replace("taken@other.example", "X")
    assert "already the portal login" not in taken[2]
    # Nothing changed hands: the worker keeps their login, the other customer's contact keeps theirs.
    assert contact(app, worker)[0] == "wu@sub.example"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)
                                 .where(Contact.email == "taken@other.example")) == 1


def test_the_link_to_a_taken_address_changes_nothing(app):
    top, sub, boss, worker = setup(app)
    client = portal_sign_in(app, "bo@top.example")
    client.post(f"/portal/customers/{sub}/contacts/{worker}/edit", sub_form("Wu Worker", "taken@other.example"))
    followed = PanelClient(app.test_client()).get(last_link(app, "taken@other.example"))
    assert "used by another account" in html.unescape(followed.get_data(as_text=True))
    assert contact(app, worker)[0] == "wu@sub.example"


def test_a_form_error_answers_the_same_for_a_taken_and_an_unused_address(app):
    top, sub, boss, worker = setup(app)
    client = portal_sign_in(app, "bo@top.example")
    url = f"/portal/customers/{sub}/contacts/{worker}/edit"
    unused = client.post(url, sub_form("", "fresh@nowhere.example"))
    taken = client.post(url, sub_form("", "taken@other.example"))
    assert unused.status_code == taken.status_code == 422
    strip = lambda r, a: _answer(client, r)[2].replace(a, "X")  # noqa: E731
    assert strip(unused, "fresh@nowhere.example") == strip(taken, "taken@other.example")
