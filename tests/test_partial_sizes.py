"""htmx partials stay small: a contact row's edit form and its save answer are each under a tenth of
the Main tab's full page (the page an htmx swap saves reloading): its shell and the sections it loads."""
import re

from panel.actor import SYSTEM
from panel.contacts.records import create_contact
from panel.extensions import db


def test_a_contact_rows_edit_form_and_save_answer_are_under_a_tenth_of_the_main_tab(app, as_role, customer):
    with app.app_context():
        contact, _ = create_contact(SYSTEM, customer, {"name": "Ana Silva", "email": "ana@acme.example",
                                               "public_notes": "Prefers e-mail."}, password="long enough pw")
        db.session.commit()
        contact_id = contact.id
    client = as_role("staff")
    page = client.get(f"/customers/{customer}")
    edit = client.get(f"/customers/{customer}/contacts/{contact_id}/edit", htmx=True)
    saved = client.post(f"/customers/{customer}/contacts/{contact_id}",
                        {"name": "Ana Silva", "email": "ana@acme.example", "contact_type": "Other", "phone": "",
                         "mobile": "", "public_notes": "Prefers phone.", "private_notes": "", "save_action": "continue"},
                        htmx=True)
    assert page.status_code == edit.status_code == saved.status_code == 200
    shell = page.get_data(as_text=True)
    sections = re.findall(r'<section id="[\w-]+"[^>]*hx-get="([^"]+)"[^>]*hx-trigger="load', shell)
    assert len(sections) >= 5, sections  # contacts, number blocks, summary, invoices, payments, …
    full = len(page.get_data()) + sum(len(client.get(url, htmx=True).get_data()) for url in sections)
    sizes = {"edit form": len(edit.get_data()), "save answer": len(saved.get_data())}
    assert all(size < full / 10 for size in sizes.values()), (full, sizes)
    assert "<html" not in edit.get_data(as_text=True) and "<html" not in saved.get_data(as_text=True)
