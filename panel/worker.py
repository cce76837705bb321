"""The worker: one loop that runs whatever work has fallen due, pass after pass."""
import logging
import os
import signal
import socket
import time

from panel import unit_of_work
from panel.alerts.evaluate import alerts_job
from panel.calls.partitions import worker_job as partitions_job
from panel.bulk.jobs import work_next as bulk_job
from panel.calls.rollup import rollup_job
from panel.cards.cards import reconcile_job
from panel.delayed.changes import apply_due
from panel.errors import database_trouble, one_line
from panel.extensions import db
from panel.invoices.billing import auto_invoice_job
from panel.mail.outbox import deliver_job
from panel.store.fulfilment import fulfil_paid_orders


def _delayed_saves():
    done = apply_due(worker=WORKER_NAME)  # each change a unit of work of its own
    return f"{done} applied" if done else None


def _mail():
    return deliver_job()  # each message a unit of work of its own


def _bulk_changes():
    return bulk_job()  # claimed in a commit of its own, then the whole batch in one unit of work


def _rollup():
    return rollup_job()


def _partitions():
    return partitions_job()  # PostgreSQL: months made ahead, the default partition emptied, retention


def _invoices():
    return auto_invoice_job()


def _card_charges():
    return reconcile_job()  # charges whose outcome is unknown (a timeout, a crash): asked of the processor


def _store_orders():
    done = fulfil_paid_orders()  # each line claimed once, whichever worker gets there first
    return f"{done} order lines fulfilled" if done else None


def _alerts():
    return alerts_job()  # each batch of customers a unit of work of its own


WORKER_NAME = f"worker {socket.gethostname()}:{os.getpid()}"
# (name, function) pairs run on every pass; a function returns a short report or None.
JOBS: list = [("delayed saves", _delayed_saves), ("mail", _mail), ("roll-up", _rollup),
              ("call partitions", _partitions), ("auto invoices", _invoices), ("card charges", _card_charges),
              ("store orders", _store_orders), ("alerts", _alerts), ("bulk changes", _bulk_changes)]


def run_pass() -> dict:
    """Each job is a unit of work of its own (or several: a job that works in batches commits each one)."""
    results = {}
    for name, job in JOBS:
        try:
            with unit_of_work.unit():
                results[name] = job()
        except Exception as error:  # one failing job must not stop the others; it is retried next pass
            # (unit() has rolled it back)
            trouble = database_trouble(error)
            if trouble:  # an outage or a lock: one line a pass, not a traceback per job
                logging.getLogger("panel.worker").warning("%s: database %s (%s)", name, trouble, one_line(error))
                results[name] = f"database {trouble}; retried next pass"
            else:
                logging.getLogger("panel.worker").exception("%s failed", name)
                results[name] = "failed (logged)"
        finally:
            db.session.remove()
    return results


def run(once: bool = False, interval: float = 5.0, echo=print) -> None:
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    echo(f"worker started ({len(JOBS)} job kinds)")
    while True:
        results = run_pass()
        for name, done in results.items():
            if done:
                echo(f"{name}: {done}")
        if once or stopping:
            break
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
        if stopping:
            break
    echo("worker stopped")
