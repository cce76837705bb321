"""web sessions: server-side sessions, the cookie holding only a random id (its digest kept here)

Revision ID: 0010_web_sessions
Revises: 0009_billed_amounts
Create Date: 2026-12-03 10:00:00.000000

Sessions opened before this revision were signed cookies: they are not in the table, so everyone
signs in again once.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_web_sessions'
down_revision = '0009_billed_amounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("token_digest", name=op.f("uq_web_session_token_digest")),
    )
    op.create_index(op.f("ix_web_session_staff_user_id"), "web_session", ["staff_user_id"])
    op.create_index(op.f("ix_web_session_contact_id"), "web_session", ["contact_id"])
    op.create_index(op.f("ix_web_session_last_seen_at"), "web_session", ["last_seen_at"])


def downgrade():
    op.drop_table("web_session")
