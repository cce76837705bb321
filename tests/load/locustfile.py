"""Staff users of the panel for locust: they sign in, carry the CSRF token, read the pages staff read all day
(full pages and the htmx fragments the pages load), and write (inline contact saves, customer edits, Generate
Invoice), as tests/load/test_load.py and tests/bench/bench_load.py run them.

Anyone can re-run it and watch locust's live charts against a running panel:

    LOAD_SETUP=instance/load.json .venv/bin/locust -f tests/load/locustfile.py --host http://127.0.0.1:5000

LOAD_SETUP names a JSON file: {"staff": [[email, password], …], "customers": [ids], "contacts": [[customer id,
contact id], …], "days": [[customer id, "YYYY-MM-DD"], …], "api_token": "…", "ledger": "path.jsonl",
"cases": [[name, url, htmx, headers], …] (BenchUser)}. Every write an answer acknowledged is appended to the
ledger (one JSON line), so the test can find its audit entry.

A page read answers 200 or is a failure; a write may be refused (409, 422) but never answers 5xx.
"""
import itertools
import json
import os
import random
import sys
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.load.forms import TOKEN, form_fields  # noqa: E402

SETUP = json.loads(Path(os.environ["LOAD_SETUP"]).read_text())
SERIAL = itertools.count(1)
STAFF = itertools.cycle(SETUP["staff"])
_ledger = open(SETUP["ledger"], "a", encoding="utf-8") if SETUP.get("ledger") else None


@events.quitting.add_listener
def _close_ledger(environment, **kwargs):
    if _ledger:
        _ledger.close()


def acknowledged(kind: str, **fields) -> None:
    if _ledger:
        _ledger.write(json.dumps({"kind": kind, **fields}) + "\n")
        _ledger.flush()


class PanelUser(HttpUser):
    """A signed-in staff user and the requests a page makes; the kinds of user below say what they do."""

    abstract = True

    def on_start(self):
        self.email, password = next(STAFF)
        self.token = None
        self.rng = random.Random(hash(self.email) ^ id(self))
        self.page("/login", name="sign-in page")
        with self.client.post("/login", data={"csrf_token": self.token, "email": self.email, "password": password},
                              allow_redirects=False, name="sign in", catch_response=True) as response:
            if response.status_code != 303:
                response.failure(f"sign-in as {self.email} answered {response.status_code}")
        self.page("/customers", name="customers list")  # the session was renewed at sign-in: take the new token

    # -- requests -------------------------------------------------------------------------------------------

    def page(self, url: str, name: str, htmx: bool = False, headers: dict | None = None) -> str:
        sent = {"HX-Request": "true"} if htmx else {}
        sent.update(headers or {})
        with self.client.get(url, headers=sent, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            self._take_token(response.text)
            return response.text

    def write(self, url: str, fields: dict, name: str, htmx: bool = False):
        """POST a form as the page would: the token in the form, or in X-CSRFToken for htmx."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.token or ""} if htmx else {}
        data = fields if htmx else {**fields, "csrf_token": self.token}
        with self.client.post(url, data=data, headers=headers, name=name, allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code >= 500:
                response.failure(f"{response.status_code}")
            else:
                response.success()
            self._take_token(response.text)
            return response

    def _take_token(self, text: str) -> None:
        match = TOKEN.search(text or "")
        if match:
            self.token = match.group(1)

    def customer(self) -> int:
        return self.rng.choice(SETUP["customers"])

    def save_a_contact(self):
        customer_id, contact_id = self.rng.choice(SETUP["contacts"])
        form = self.page(f"/customers/{customer_id}/contacts/{contact_id}/edit", "contact edit form", htmx=True)
        fields = form_fields(form, 'class="inline-form"')
        phone = f"+1 555 {next(SERIAL):07d}"
        fields.update(phone=phone, save_action="continue")
        response = self.write(f"/customers/{customer_id}/contacts/{contact_id}", fields, "inline contact save",
                              htmx=True)
        if response.status_code == 200 and "Saved." in response.text:
            acknowledged("contact phone", value=phone, id=contact_id, who=self.email)


class StaffUser(PanelUser):
    """tests/load/test_load.py: a staff member's day, with pauses — reads mostly, and writes that collide."""

    wait_time = between(0.05, 0.3)

    @task(15)
    def save_contact(self):
        self.save_a_contact()

    @task(10)
    def edit_a_customer(self):
        customer = self.customer()
        form = self.page(f"/customers/{customer}/edit", "customer edit form")
        fields = form_fields(form, 'class="card form-grid"')
        line = f"Suite {next(SERIAL)}"
        fields.update(address_line2=line, save_action="continue")
        if self.write(f"/customers/{customer}/edit", fields, "customer edit").status_code == 303:
            acknowledged("customer line", value=line, id=customer, who=self.email)

    @task(5)
    def generate_an_invoice(self):
        if not SETUP.get("days"):
            return
        customer_id, day = self.rng.choice(SETUP["days"])
        response = self.write(f"/customers/{customer_id}/invoices/generate", {"frame": "daily", "period": day},
                              "generate invoice", htmx=True)
        if response.status_code == 200 and "Created " in response.text:
            numbers = response.text.split("Created ", 1)[1].split(".", 1)[0]
            for number in numbers.split(","):
                acknowledged("invoice", value=number.strip(), who=self.email)

    @task(70)
    def read_a_page(self):
        customer = self.customer()
        auth = {"Authorization": f"Bearer {SETUP['api_token']}"}
        cases = [
            ("customers list", "/customers", False, None),
            ("customer search", "/customers?q=tel", True, None),
            ("Main tab", f"/customers/{customer}", False, None),
            ("contacts partial", f"/customers/{customer}/contacts", True, None),
            ("Global Contacts search", "/contacts?q=ana", True, None),
            ("customer audit log", f"/customers/{customer}/audit", False, None),
            ("Summary tab", f"/customers/{customer}/summary?frame=daily", True, None),
            ("invoice API page", "/api/v1/invoices", False, auth),
        ]
        name, url, htmx, headers = self.rng.choice(cases)
        self.page(url, name, htmx=htmx, headers=headers)


class BenchUser(PanelUser):
    """tests/bench/bench_load.py: each user goes through every case of SETUP["cases"] ([name, url, htmx,
    headers]; the url "save" is an inline contact save) in a new random order, without pauses, so every page
    and the baseline route are timed under the same load. Run it by naming the class: `locust … BenchUser`."""

    wait_time = between(0, 0)

    @task
    def every_case(self):
        cases = list(SETUP["cases"])
        self.rng.shuffle(cases)
        for name, url, htmx, headers in cases:
            if url == "save":
                self.save_a_contact()
            else:
                self.page(url, name, htmx=htmx, headers=headers)
