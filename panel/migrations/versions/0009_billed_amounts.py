"""billed amounts: round the open invoices that still hold sub-unit amounts to their currency's minor unit

Revision ID: 0009_billed_amounts
Revises: 0008_pending_password
Create Date: 2026-12-02 10:00:00.000000

The rule (README, "Money"): an invoice that is issued (not paid, not void) has each line's charge
rounded half up to its currency's minor unit (panel/money.py), its total becomes the sum of its
rounded lines, and any allocation to it that is not a whole minor unit is rounded down (so no
payment is ever allocated more than it had); it becomes paid when its allocations now cover its
total. Every changed row gets an audit entry by `system` saying why, chained like any other entry.
Paid and void invoices are left exactly as they are: they are settled or not payable, and what a
customer has paid is not rewritten.

Downgrade changes no data: the rounded amounts are valid amounts for the code before this revision
too, and the previous values are kept in the audit log (the entries' "Data").
"""
from decimal import ROUND_DOWN

import sqlalchemy as sa
from alembic import op

from panel import money
from panel.audit.bulk import update_rows
from panel.types import Money

# revision identifiers, used by Alembic.
revision = '0009_billed_amounts'
down_revision = '0008_pending_password'
branch_labels = None
depends_on = None

COMMENT = "Migration 0009: an open invoice's amounts rounded half up to its currency's minor unit"
CHUNK = 500

invoice = sa.table("invoice", sa.column("id", sa.Integer), sa.column("customer_id", sa.Integer),
                   sa.column("currency", sa.String), sa.column("total", Money()), sa.column("status", sa.String))
line = sa.table("invoice_line", sa.column("id", sa.Integer), sa.column("invoice_id", sa.Integer),
                sa.column("customer_id", sa.Integer), sa.column("charge", Money()))
allocation = sa.table("payment_allocation", sa.column("id", sa.Integer), sa.column("invoice_id", sa.Integer),
                      sa.column("customer_id", sa.Integer), sa.column("amount", Money()))


def _rounded(connection, rows):
    """The changes for one chunk of issued invoices: ({table: [(id, customer id, diff)]})."""
    ids = [row.id for row in rows]
    lines, allocations = {}, {}
    for row in connection.execute(sa.select(line).where(line.c.invoice_id.in_(ids)).order_by(line.c.id)):
        lines.setdefault(row.invoice_id, []).append(row)
    for row in connection.execute(sa.select(allocation).where(allocation.c.invoice_id.in_(ids))
                                  .order_by(allocation.c.id)):
        allocations.setdefault(row.invoice_id, []).append(row)
    changes = {"invoice_line": [], "payment_allocation": [], "invoice": []}
    for row in rows:
        unit = money.unit(row.currency)
        charges = []
        for item in lines.get(row.id, []):
            charge = money.billed(item.charge, row.currency)
            charges.append(charge)
            if charge != item.charge:
                changes["invoice_line"].append((item.id, item.customer_id, {"charge": (item.charge, charge)}))
        paid = 0
        for item in allocations.get(row.id, []):
            amount = item.amount.quantize(unit, rounding=ROUND_DOWN)
            paid += amount
            if amount != item.amount:
                changes["payment_allocation"].append((item.id, item.customer_id, {"amount": (item.amount, amount)}))
        total = sum(charges, money.billed(0, row.currency))
        diff = {}
        if total != row.total:
            diff["total"] = (row.total, total)
        if paid >= total:
            diff["status"] = (row.status, "paid")
        if diff:
            changes["invoice"].append((row.id, row.customer_id, diff))
    return changes


def upgrade():
    connection = op.get_bind()
    tables = {"invoice_line": line, "payment_allocation": allocation, "invoice": invoice}
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(invoice).where(invoice.c.status == "issued", invoice.c.id > last_id)
            .order_by(invoice.c.id).limit(CHUNK)).all()
        if not rows:
            return
        last_id = rows[-1].id
        for name, changes in _rounded(connection, rows).items():
            update_rows(connection, tables[name], changes, COMMENT)


def downgrade():
    pass  # see the docstring: no data is un-rounded; the previous values are in the audit log
