"""/settings/ lists the settings pages from the one list (panel/settings PAGES): every one for an admin, Options
only for staff whose groups grant Settings, none for other staff; the menu and each page's Settings bar lead there."""
import re

from flask import url_for

from panel.auth.models import StaffGroup, StaffGroupMember
from panel.extensions import db
from panel.settings import PAGES
from tests.factories import StaffUserFactory
from tests.helpers import PanelClient


def _links(body: str) -> list[str]:
    index = re.search(r'<ul class="settings-index card">(.*?)</ul>', body, re.S).group(1)
    return re.findall(r'<a href="([^"]+)">', index)


def test_an_admin_sees_every_settings_page_linked_and_each_opens(app, as_role):
    client = as_role("admin")
    body = client.get("/settings/").get_data(as_text=True)
    with app.test_request_context():
        expected = [url_for(page.endpoint) for page in PAGES]
    assert _links(body) == expected
    for label in ("Options", "API tokens", "Staff users", "Two-factor sign-in", "IP allow-list"):
        assert f">{label}</a>" in body
    for url in expected:
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'href="/settings/"' in page.get_data(as_text=True)  # the bar leads back to the index
    menu = re.search(r"<nav>(.*?)</nav>", client.get("/customers").get_data(as_text=True), re.S).group(1)
    assert 'href="/settings/"' in menu


def test_staff_granted_settings_see_options_and_global_alerts_only_and_others_are_refused(app, as_role):
    with app.app_context():
        user = StaffUserFactory(role="staff", email="settings.staff@example.com")
        group = StaffGroup(name="Only settings", grants="settings:rw")
        db.session.add(group)
        db.session.flush()
        db.session.add(StaffGroupMember(staff_user_id=user.id, group_id=group.id))
        db.session.commit()
    granted = PanelClient(app.test_client())
    assert granted.login("settings.staff@example.com").status_code == 303
    assert _links(granted.get("/settings/").get_data(as_text=True)) == ["/settings/options", "/settings/alerts"]
    assert as_role("staff").get("/settings/").status_code == 403
