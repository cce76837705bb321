"""Invoices from the Summary's figures: lines per day, never two for one moment, void frees the period,
Auto Generate fills exactly the missing completed periods."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import unit_of_work
from panel.actor import SYSTEM
from panel.audit.models import AuditEntry
from panel.invoices.balance import balance_of
from panel.customers.models import Customer
from panel.extensions import db
from panel.invoices import billing
from panel.invoices.models import Invoice
from tests.invoices.data import NOW, add_hours, at


def make(customer_id, frame, *starts, now=NOW):
    return billing.generate(SYSTEM, db.session.get(Customer, customer_id), frame, [at(s) for s in starts], now=now)


def test_an_invoice_has_a_line_per_day_and_the_summary_totals(app, traffic):
    with app.app_context():
        outcome = make(traffic, "weekly", "2026-11-02")
        assert outcome.refused == []
        invoice = outcome.created[0]
        assert invoice.number == "INV-000001"
        assert [line.description for line in invoice.lines] == ["Calls 2026-11-02 (UTC)", "Calls 2026-11-03 (UTC)"]
        assert [line.charge for line in invoice.lines] == [Decimal("2.25"), Decimal("0.4")]
        assert (invoice.calls, invoice.billed_seconds, invoice.total) == (19, 19 * 60, Decimal("2.65"))
        assert (invoice.period_start, invoice.period_end) == (at("2026-11-02"), at("2026-11-09"))
        assert invoice.status == "issued" and invoice.currency == "USD"


def test_numbers_follow_each_other(app, traffic):
    with app.app_context():
        numbers = [i.number for i in make(traffic, "daily", "2026-11-02", "2026-11-03", "2026-11-09").created]
        assert numbers == ["INV-000001", "INV-000002", "INV-000003"]


def test_a_period_invoiced_once_is_refused_with_the_invoice_number(app, traffic):
    with app.app_context():
        make(traffic, "daily", "2026-11-02", "2026-11-03")
        again = make(traffic, "daily", "2026-11-03")
        assert again.created == [] and again.refused == ["2026-11-03: already invoiced in INV-000002"]
        # Another time frame over the same days is refused too, naming every invoice in the way.
        weekly = make(traffic, "weekly", "2026-11-02")
        assert weekly.refused == ["2026-11-02 – 2026-11-08 (week 45): already invoiced in INV-000001, INV-000002"]


def test_generate_is_all_or_nothing(app, traffic):
    with app.app_context():
        make(traffic, "daily", "2026-11-03")
        outcome = make(traffic, "daily", "2026-11-02", "2026-11-03")
        assert outcome.created == [] and len(outcome.refused) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 1


def test_unfinished_and_empty_periods_are_refused(app, traffic):
    with app.app_context():
        outcome = make(traffic, "monthly", "2026-11-01")
        assert outcome.refused == ["2026-11: the period has not ended yet (it ends 2026-12-01 00:00 UTC)"]
        assert make(traffic, "daily", "2026-11-04").refused == ["2026-11-04: no calls in this period"]


def test_the_database_refuses_overlapping_invoices_whatever_the_code_does(app, traffic):
    with app.app_context():
        make(traffic, "daily", "2026-11-02")
        db.session.add(Invoice(number="INV-X", customer_id=traffic, time_frame="weekly", period_start=at("2026-11-01"),
                               period_end=at("2026-11-08"), currency="USD", created_by="test"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_voiding_frees_the_period_and_is_audited(app, traffic):
    with app.app_context():
        first = make(traffic, "daily", "2026-11-02").created[0]
        billing.void_invoice(SYSTEM, first, "Wrong rate")
        assert first.status == "void" and first.void_reason == "Wrong rate"
        again = make(traffic, "daily", "2026-11-02")
        assert [i.number for i in again.created] == ["INV-000002"]
        entries = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.table_name == "invoice", AuditEntry.row_id == str(first.id)).order_by(AuditEntry.id)).all()
        assert [e.message for e in entries] == ["New", "Update"]
        assert '"status": ["issued", "void"]' in entries[1].data
        with pytest.raises(billing.InvoiceRefused, match="already void"):
            billing.void_invoice(SYSTEM, first, "again")


def test_auto_generate_makes_every_missing_completed_period_and_nothing_the_second_time(app, traffic):
    with app.app_context():
        customer = db.session.get(Customer, traffic)
        customer.invoice_schedule = "daily"
        db.session.commit()
        make(traffic, "daily", "2026-11-03")  # one already made by hand
        outcome = billing.auto_generate(SYSTEM, customer, now=NOW)
        assert [i.period_start for i in outcome.created] == [at("2026-11-02"), at("2026-11-09")]
        assert billing.auto_generate(SYSTEM, customer, now=NOW).created == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 3


def test_auto_generate_leaves_the_period_in_progress(app, traffic):
    with app.app_context():
        add_hours(traffic, ("2026-11-22T08", 3, "0.30"))
        customer = db.session.get(Customer, traffic)
        customer.invoice_schedule = "weekly"
        db.session.commit()
        starts = [i.period_start for i in billing.auto_generate(SYSTEM, customer, now=NOW).created]
        assert starts == [at("2026-11-02"), at("2026-11-09")]  # the week of 16 Nov had no calls; 22 Nov is not over


def test_auto_generate_needs_a_schedule(app, traffic):
    with app.app_context():
        with pytest.raises(billing.InvoiceRefused, match="Invoice Schedule"):
            billing.auto_generate(SYSTEM, db.session.get(Customer, traffic), now=NOW)


def test_the_worker_job_runs_once_a_day_after_the_first_hour(app, traffic):
    with app.app_context():
        customer = db.session.get(Customer, traffic)
        customer.invoice_schedule = "daily"
        db.session.commit()
        for now, done in [("2026-11-22T00:30", None),  # late records may still come
                          ("2026-11-22T01:05", "3 invoices made"), ("2026-11-22T05:00", None)]:  # then done today
            with unit_of_work.unit():  # as the worker runs it
                assert billing.auto_invoice_job(now=at(now)) == done


def test_issued_invoices_lower_the_balance_and_void_ones_do_not(app, traffic):
    with app.app_context():
        invoice = make(traffic, "daily", "2026-11-02").created[0]
        assert balance_of(traffic) == Decimal("-2.25")
        billing.void_invoice(SYSTEM, invoice, "duplicate")
        assert balance_of(traffic) == Decimal("0")
