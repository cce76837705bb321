"""Opening a customer's edit page and pressing Save without touching anything saves: every field the
page shows is one the form accepts back (4-place money shows with the 2 places it is typed in)."""
from html.parser import HTMLParser

from panel.customers.models import Customer
from panel.extensions import db


class FormValues(HTMLParser):
    """The values a browser would submit for the first form with method=post (text inputs, checked
    boxes, selected options, textareas); buttons are left out."""

    def __init__(self):
        super().__init__()
        self.values, self.select, self.textarea, self.inside = {}, None, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type", "text") not in ("submit", "button"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "y")
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and ("selected" in a or self.select not in self.values):
            self.values[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.values[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data


def test_saving_the_edit_page_untouched_changes_nothing_and_succeeds(app, as_role, customer):
    client = as_role("staff")
    parser = FormValues()
    parser.feed(client.get(f"/customers/{customer}/edit").get_data(as_text=True))
    assert parser.values["debit_limit"] == "0.00"
    response = client.post(f"/customers/{customer}/edit", {**parser.values, "save_action": "continue"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.get(Customer, customer).name == "Acme Telecom"
