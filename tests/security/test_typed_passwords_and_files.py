"""A contact password typed by staff is temporary; the SQLite file is private; a password's .eml file goes;
a portal form with a stale CSRF token stays in the portal."""
import os
import stat
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from panel import create_app, unit_of_work
from panel.contacts.models import Contact
from panel.extensions import db
from panel.mail import outbox
from panel.types import utcnow
from tests.factories import ContactFactory
from tests.helpers import PanelClient, app_config, portal_sign_in

TYPED = "typed by staff 123"


def _contact(app, customer, email="tina@acme.example"):
    with app.app_context():
        return ContactFactory(customer_id=customer, email=email).id


def _state(app, contact_id):
    with app.app_context():
        c = db.session.get(Contact, contact_id)
        return c.must_change_password, c.password_expires_at


def test_a_password_typed_by_staff_in_change_password_is_temporary(app, as_role, customer):
    contact = _contact(app, customer)
    response = as_role("staff").post(f"/customers/{customer}/contacts/{contact}/password", {"password": TYPED}, htmx=True)
    assert response.status_code == 200
    must, expires = _state(app, contact)
    assert must and expires is not None and expires - utcnow() <= timedelta(hours=24)
    # The contact signs in with it only to choose their own.
    client = portal_sign_in(app, "tina@acme.example", TYPED)
    assert client.get("/portal/").headers["Location"].endswith("/portal/password")


def test_a_new_contact_with_a_typed_password_must_choose_their_own(app, as_role, customer):
    response = as_role("staff").post(f"/customers/{customer}/contacts", {
        "name": "Tom Typed", "email": "tom@acme.example", "contact_type": "Other", "password": TYPED}, htmx=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        contact = db.session.scalar(sa.select(Contact.id).where(Contact.email == "tom@acme.example"))
    must, expires = _state(app, contact)
    assert must and expires is not None


def test_a_typed_password_left_unused_expires(app, as_role, customer):
    contact = _contact(app, customer)
    as_role("staff").post(f"/customers/{customer}/contacts/{contact}/password", {"password": TYPED}, htmx=True)
    with app.app_context():
        db.session.get(Contact, contact).password_expires_at = utcnow() - timedelta(minutes=1)
        unit_of_work.commit()
    response = PanelClient(app.test_client()).post("/portal/login", {"email": "tina@acme.example", "password": TYPED})
    assert response.status_code == 401 and "temporary password has expired" in response.get_data(as_text=True)


def test_a_new_sqlite_database_file_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_INSTANCE_PATH", str(tmp_path / "instance"))
    old = os.umask(0o022)
    try:
        path = tmp_path / "fresh" / "panel.db"
        path.parent.mkdir()  # the folder is the operator's (instance/ is made by create_app); a missing one is an error
        app = create_app(app_config(f"sqlite:///{path}"))
        with app.app_context():
            db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            db.session.execute(sa.text("INSERT INTO t VALUES (1)"))
            db.session.commit()
            for name in ("panel.db", "panel.db-wal", "panel.db-shm"):
                file = path.with_name(name)
                assert file.exists() and stat.S_IMODE(file.stat().st_mode) == 0o600, name
            db.session.remove()
            db.engine.dispose()
    finally:
        os.umask(old)


def test_an_outbox_file_that_held_a_password_is_erased_after_its_hours(app):
    with app.app_context():
        with unit_of_work.unit():
            secret = outbox.queue_mail("x@example.com", "Password", "temporary password: s3cret-XYZ", sensitive=True)
            plain = outbox.queue_mail("y@example.com", "Hello", "nothing secret")
        outbox.deliver()
        folder = Path(app.instance_path, "outbox")
        files = {f.name: f for f in folder.glob("*.eml")}
        sensitive = [f for name, f in files.items() if name.endswith(".sensitive.eml")]
        assert len(files) == 2 and len(sensitive) == 1
        assert "X-Panel-Erased-After" in sensitive[0].read_text()
        assert outbox.erase_sensitive_files(folder) == 0  # not yet: the file is the delivery
        assert outbox.erase_sensitive_files(folder, now=time.time() + 3601) == 1
        left = list(folder.glob("*.eml"))
        assert len(left) == 1 and "s3cret" not in left[0].read_text()
        assert secret.id != plain.id


def test_a_portal_form_with_a_stale_csrf_token_stays_in_the_portal(app, customer):
    _contact(app, customer, "csrf@acme.example")
    client = portal_sign_in(app, "csrf@acme.example")
    for url in ("/portal/profile", "/portal/logout", "/portal/login"):
        response = client.post(url, {"name": "X", "csrf_token": "stale"}, csrf=False)
        body = response.get_data(as_text=True)
        assert response.status_code == 400, url
        assert "/login" not in response.headers.get("Location", "") and "This form had expired" in body
        assert 'action="/login"' not in body
    anonymous = PanelClient(app.test_client())
    response = anonymous.post("/portal/login", {"email": "a@b.c", "password": "x"}, csrf=False)
    assert response.status_code == 400 and "This form had expired" in response.get_data(as_text=True)


def test_writing_outbox_files_lists_the_folder_at_most_once_a_minute(app, monkeypatch):
    """A big outbox does not make every write list it; an old password file still goes at the next sweep."""
    sweeps = []
    erase = outbox.erase_sensitive_files
    monkeypatch.setattr(outbox, "erase_sensitive_files", lambda folder=None, now=None: sweeps.append(folder) or erase(folder, now))
    with app.app_context():
        folder = Path(app.instance_path, "outbox")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        old = folder / f"1-old{outbox.SENSITIVE_SUFFIX}"
        old.write_text("temporary password: old-secret")
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        with unit_of_work.unit():
            for n in range(5):
                outbox.queue_mail(f"p{n}@example.com", "Hello", "nothing secret")
        outbox.deliver()
        assert len(sweeps) == 1 and not old.exists()  # the first write swept, and erased the old file
        monkeypatch.setitem(outbox._last_sweep, folder, time.monotonic() - outbox._SWEEP_EVERY - 1)
        with unit_of_work.unit():
            outbox.queue_mail("later@example.com", "Hello", "a minute later")
        outbox.deliver()
        assert len(sweeps) == 2 and len(list(folder.glob("*.eml"))) == 6
