"""localstripe, the stateful stand-in for Stripe's API (and its stripe.js), on a free loopback port for the
whole session, and an app whose card settings point at it. tests/browser imports these fixtures too."""
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
import stripe

from tests.helpers import free_port, wait_until

SECRET_KEY = "sk_test_panel_cards"
PUBLISHABLE_KEY = "pk_test_panel_cards"
# What must never reach a page, a log line or an audit entry: the secret key and the processor's ids.
PROCESSOR_SECRET = re.compile(r"\b(?:sk|pm|cus|seti|pi|re)_[A-Za-z0-9]{6,}")


@dataclass(frozen=True)
class LocalStripe:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def settings(self) -> dict:
        return {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
                "STRIPE_API_BASE": self.url, "STRIPE_JS_URL": self.js_url}


def _answers(url: str) -> bool:
    request = urllib.request.Request(url + "/v1/customers?limit=1", headers={"Authorization": f"Bearer {SECRET_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        return True  # it answered
    except OSError:
        return False


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """localstripe --port N --from-scratch, started once, stopped by its PID at the end of the session. (It listens
    on every interface: the port is a free one and nothing else is served.)"""
    port = free_port()
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    server = LocalStripe(port=port, pid=process.pid)
    try:
        wait_until(lambda: process.poll() is not None or _answers(server.url), timeout=30,
                   message="localstripe answering")
        if process.poll() is not None:
            pytest.fail(f"localstripe exited with {process.returncode}: {log.read_text()[-2000:]}", pytrace=False)
        yield server
    finally:
        if process.poll() is None:
            os.kill(process.pid, 15)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, 9)
                process.wait(timeout=10)


def confirm_setup(api_base: str, setup_intent_id: str, number: str = "4242424242424242") -> str:
    """What stripe.js does with a card typed into the card element: confirm the SetupIntent (CardError if the
    card is declined)."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": api_base}, max_network_retries=0)
    card = {"number": number, "exp_month": 11, "exp_year": 2031, "cvc": "123"}
    return client.v1.setup_intents.confirm(setup_intent_id, params={"payment_method_data": {"type": "card",
                                                                                            "card": card}}).id


@pytest.fixture
def cards_app(app, localstripe):
    """The test's app with card payments through localstripe (the app fixture restores its settings after)."""
    app.config.update(localstripe.settings())
    return app
