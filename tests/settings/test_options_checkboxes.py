"""Settings → Options: its check boxes (Portal Access for new customers, Audit Comment) are changed only by a
post that shows them. An unticked box sends nothing, so a post without the page's marker (another form's,
a script's) must leave them as they are, while the page itself can still untick every box."""
from panel.customers.models import PORTAL_SECTIONS_OPTION
from panel.options import get_option, set_option
from panel import unit_of_work

SHOWN = "require_comment portal_sections"


def _options(app):
    with app.app_context():
        return get_option(PORTAL_SECTIONS_OPTION), get_option("audit_comment")


def test_a_post_without_the_check_boxes_keeps_portal_access_and_the_audit_comment(app, as_role):
    with app.app_context():
        set_option(PORTAL_SECTIONS_OPTION, "balance invoices")
        set_option("audit_comment", "1")
        unit_of_work.commit()
    admin = as_role("admin")
    response = admin.post("/settings/options", {"sip_realm": "sip.example.net", "audit_comment": "realm"})
    assert response.status_code == 303
    assert _options(app) == ("balance invoices", "1")
    assert get_realm(app) == "sip.example.net"


def test_the_page_marks_its_check_boxes_so_unticking_all_of_them_saves_none(app, as_role):
    admin = as_role("admin")
    page = admin.get("/settings/options").get_data(as_text=True)
    assert f'name="checkboxes_shown" value="{SHOWN}"' in page
    response = admin.post("/settings/options", {"sip_realm": "sip.example.net", "checkboxes_shown": SHOWN})
    assert response.status_code == 303
    assert _options(app) == ("", "0")


def test_ticked_boxes_are_saved_with_or_without_the_marker(app, as_role):
    admin = as_role("admin")
    assert admin.post("/settings/options", {"portal_sections": ["calls"], "sip_realm": "sip.example.net"}).status_code == 303
    assert _options(app)[0] == "calls"
    assert admin.post("/settings/options", {"portal_sections": ["store", "balance"], "checkboxes_shown": SHOWN,
                                            "sip_realm": "sip.example.net"}).status_code == 303
    assert _options(app)[0] == "balance store"


def get_realm(app):
    with app.app_context():
        return get_option("sip_realm")
