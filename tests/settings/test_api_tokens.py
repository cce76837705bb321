"""Settings → API tokens: admins create a token (shown once, stored as a digest) and revoke it."""
import re

import sqlalchemy as sa

from panel.api.models import ApiToken
from panel.audit.models import AuditEntry
from panel.extensions import db


def test_admin_creates_a_token_shown_once_and_revokes_it(app, as_role, customer):
    client = as_role("admin")
    created = client.post("/settings/api-tokens", {"name": "switch-2", "scopes": ["channels"]})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    token = re.search(r'<code class="secret">([^<]+)</code>', created.get_data(as_text=True)).group(1)
    assert token not in client.get("/settings/api-tokens").get_data(as_text=True)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.put(f"/api/v1/customers/{customer}/channels", json={"channels_in_use": 3}, headers=headers).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.table_name == "api_token")).all()
        assert entries and all(token not in e.data for e in entries)
    assert client.post(f"/settings/api-tokens/{token_id}/revoke").status_code == 303
    assert api.put(f"/api/v1/customers/{customer}/channels", json={"channels_in_use": 3}, headers=headers).status_code == 401
    assert "revoked" in client.get("/settings/api-tokens").get_data(as_text=True)


def test_a_token_needs_a_name_and_a_scope(as_role):
    client = as_role("admin")
    response = client.post("/settings/api-tokens", {"name": "", "scopes": []})
    assert response.status_code == 422
    assert "Pick at least one scope." in response.get_data(as_text=True)
    assert client.post("/settings/api-tokens", {"name": "x", "scopes": ["root"]}).status_code == 422


def test_only_admins_manage_tokens(as_role):
    client = as_role("staff")
    assert client.get("/settings/api-tokens").status_code == 403
    assert client.post("/settings/api-tokens", {"name": "x", "scopes": ["channels"]}).status_code == 403
