"""The flask commands of DESIGN.md: seed-demo, create-staff, worker --once, audit-verify."""
import re

import sqlalchemy as sa

from panel.audit.models import AuditEntry
from panel.auth.models import StaffUser
from panel.contacts.models import Contact
from panel.customers.models import STATUSES, Customer, LedgerEntry
from panel.extensions import db


def test_seed_demo_loads_customers_in_every_status_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@example.com" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 50
        assert set(db.session.scalars(sa.select(Customer.status).distinct())) == set(STATUSES)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) >= 100
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) >= 150
        assert db.session.scalar(sa.select(StaffUser.role).where(StaffUser.email == "admin@example.com")) == "admin"
        assert all(e.user_label == "system" for e in db.session.scalars(sa.select(AuditEntry)))
    again = runner.invoke(args=["seed-demo"])
    assert "already present" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 50


def test_create_staff_takes_the_password_from_the_environment(app, monkeypatch, client):
    monkeypatch.setenv("PANEL_PASSWORD", "a long enough password")
    result = app.test_cli_runner().invoke(args=["create-staff", "New@Example.com", "--role", "readonly"])
    assert result.exit_code == 0, result.output
    assert "a long enough password" not in result.output
    assert client.login("new@example.com", "a long enough password").status_code == 303


def test_create_staff_refuses_short_passwords_and_duplicates(app, monkeypatch):
    runner = app.test_cli_runner()
    monkeypatch.setenv("PANEL_PASSWORD", "short")
    assert runner.invoke(args=["create-staff", "a@example.com"]).exit_code != 0
    monkeypatch.setenv("PANEL_PASSWORD", "long enough password")
    assert runner.invoke(args=["create-staff", "a@example.com"]).exit_code == 0
    result = runner.invoke(args=["create-staff", "a@example.com"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_create_staff_prompts_when_no_password_is_given(app, monkeypatch):
    monkeypatch.delenv("PANEL_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(args=["create-staff", "p@example.com"],
                                          input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output


def test_worker_once_exits_cleanly(app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "worker stopped" in result.output


def test_audit_verify_reports_intact_and_broken_chains(app):
    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and "intact" in result.output
    assert re.search(r"entries checked in [0-9.]+ s \([0-9,]+ entries/s\)", result.output), result.output
    with app.app_context():
        db.session.close()
        with db.engine.begin() as connection:
            from tests.audit.test_chain_and_bulk import without_append_only_guard

            without_append_only_guard(connection)
            connection.execute(sa.text("UPDATE audit_entry SET data = '{}' WHERE id = 10"))
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1 and "BROKEN at entry 10" in result.output, result.output


def test_create_api_token_prints_a_token_once(app):
    result = app.test_cli_runner().invoke(args=["create-api-token", "switch", "--scope", "channels"])
    assert result.exit_code == 0 and result.output.startswith("pnl_")
