"""Every answer carries the security headers; pages run no inline script; session cookies are HttpOnly,
SameSite=Lax, and Secure when the panel is reached over HTTPS."""
import re

import pytest

from tests.helpers import PASSWORD, PanelClient
from tests.portal.test_access_matrix import ID_ARGS

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def check_headers(response, url):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    assert directives.get("script-src") == "'self'", (url, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (url, csp)
    assert directives.get("frame-ancestors") == "'none'" and response.headers.get("X-Frame-Options") == "DENY", url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") in ("same-origin", "strict-origin", "no-referrer"), url


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_get_route_sends_the_security_headers_and_no_inline_script(app, staff_users, customer, role):
    client = PanelClient(app.test_client())
    if role != "anonymous":
        client.login(staff_users[role], PASSWORD)
    values = {**dict.fromkeys(ID_ARGS, customer), "filename": "panel.css", "token": "x", "step": 1, "number": "INV-1"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for htmx in (False, True):
            response = client.get(url, htmx=htmx)
            try:
                check_headers(response, url)
                if response.mimetype == "text/html":
                    body = response.get_data(as_text=True)
                    assert not INLINE_SCRIPT.search(body), url
                    assert not INLINE_HANDLER.search(body), url
            finally:
                response.close()
            checked += 1
    assert checked > 60


def test_htmx_is_told_never_to_evaluate_code(client):
    page = client.get("/login").get_data(as_text=True)
    assert '"allowEval":false' in page and "hx-on" not in page


def test_session_cookies_are_httponly_and_samesite_lax(client, staff_users):
    response = client.login(staff_users["staff"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http here


def test_session_cookies_are_secure_behind_https(app, staff_users):
    app.config["PROXY_COUNT"] = 0
    client = app.test_client()
    page = client.get("/login", base_url="https://panel.example").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url="https://panel.example",
                           data={"email": staff_users["staff"], "password": PASSWORD, "csrf_token": token},
                           headers={"Referer": "https://panel.example/login"})
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
