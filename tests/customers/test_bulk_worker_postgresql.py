"""A Bulk Edit of 10,000 customers run by the worker on PostgreSQL: one transaction, one audited row per
customer, the chain intact, and progress visible from another connection while it runs."""
import json
import threading
import time

import sqlalchemy as sa

from panel.audit.chain import verify_chain
from panel.audit.models import AuditEntry
from panel.bulk import jobs
from panel.bulk.models import BulkJob
from panel.customers.models import Customer
from panel.extensions import db

COUNT = 10_000


def test_a_bulk_edit_of_ten_thousand_customers_finishes_in_the_worker_with_its_progress_visible(pg_app):
    app = pg_app
    with app.app_context():
        db.session.execute(sa.insert(Customer.__table__), [
            {"name": f"Bulk {n:05d}", "status": "Active", "currency": "USD", "debit_limit": 0, "channel_limit": 2,
             "flow_speed": 0, "channels_in_use": 0, "invoice_schedule": "none", "portal_sections": "balance",
             "require_two_factor": False, "customer_type": "End Customer", "payment_terms": "Prepaid",
             "business_type": "", "shipping_same_as_billing": True} for n in range(COUNT)])
        job = BulkJob(kind="edit", parameters=json.dumps({"channel_limit": 25}), status="queued", done=0, result="",
                      selection=jobs.Selection(all_matching=True).to_json(), created_by="staff@example.com")
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))

    seen, outcome = set(), []

    def worker():
        with app.app_context():
            outcome.append(jobs.work_next())
            db.session.remove()

    thread = threading.Thread(target=worker)
    thread.start()
    with app.app_context():
        engine = db.engine
        while thread.is_alive():
            with engine.connect() as connection:  # what the progress page reads, meanwhile
                # The progress and the changed customers in one statement, so one snapshot: read apart, the job
                # could commit between them.
                changed = sa.select(sa.func.count()).where(Customer.channel_limit == 25).scalar_subquery()
                row = connection.execute(sa.select(BulkJob.done, BulkJob.total, BulkJob.status, changed.label("changed"))
                                         .where(BulkJob.id == job_id)).one()
                seen.add((row.done, row.total, row.status))
                if row.status == "running" and row.total == COUNT:
                    assert row.changed == 0  # the change itself is not visible until its one commit
            time.sleep(0.05)
    thread.join()
    assert outcome and outcome[0].startswith("bulk edit"), outcome
    assert any(status == "running" and total == COUNT and 0 < done < COUNT for done, total, status in seen), seen

    with app.app_context():
        job = db.session.get(BulkJob, job_id)
        assert (job.status, job.done, job.total) == ("done", COUNT, COUNT)
        assert db.session.scalar(sa.select(sa.func.count()).where(Customer.channel_limit == 25)) == COUNT
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.table_name == "customer", AuditEntry.message == "Update"))
        assert rows == COUNT
        after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        assert after - before == COUNT + 2  # the customers, and the job's two status changes
        assert verify_chain(db.session.connection()).intact
