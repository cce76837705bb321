"""second factors: TOTP secrets, recovery codes, passkeys; a customer may require two-factor sign-in

Revision ID: 0011_second_factors
Revises: 0009_billed_amounts
Create Date: 2026-12-01 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_second_factors'
down_revision = '0010_web_sessions'
branch_labels = None
depends_on = None

ONE_OWNER = "(staff_user_id IS NULL) <> (contact_id IS NULL)"


def _owner_columns():
    return [
        sa.Column('staff_user_id', sa.Integer(), sa.ForeignKey('staff_user.id', ondelete='CASCADE'), nullable=True),
        sa.Column('contact_id', sa.Integer(), sa.ForeignKey('contact.id', ondelete='CASCADE'), nullable=True),
        sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customer.id', ondelete='CASCADE'), nullable=True),
    ]


def _owner_indexes(table):
    op.create_index(op.f(f'ix_{table}_staff_user_id'), table, ['staff_user_id'])
    op.create_index(op.f(f'ix_{table}_contact_id'), table, ['contact_id'])


def upgrade():
    op.create_table(
        'totp_secret',
        sa.Column('id', sa.Integer(), primary_key=True),
        *_owner_columns(),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(ONE_OWNER, name='totp_one_owner'),
        sa.UniqueConstraint('staff_user_id', name='uq_totp_staff'),
        sa.UniqueConstraint('contact_id', name='uq_totp_contact'),
    )
    _owner_indexes('totp_secret')
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), primary_key=True),
        *_owner_columns(),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint(ONE_OWNER, name='recovery_one_owner'),
    )
    _owner_indexes('recovery_code')
    op.create_table(
        'passkey',
        sa.Column('id', sa.Integer(), primary_key=True),
        *_owner_columns(),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('credential_id', sa.String(length=700), nullable=False, unique=True),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint(ONE_OWNER, name='passkey_one_owner'),
    )
    _owner_indexes('passkey')
    # Plain ADD COLUMN (no batch copy), so SQLite keeps the customer table as it is.
    op.add_column('customer', sa.Column('require_two_factor', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))


def downgrade():
    # Plain DROP COLUMN too: a batch copy would drop the customer table under every row that refers to it.
    op.drop_column('customer', 'require_two_factor')
    op.drop_table('passkey')
    op.drop_table('recovery_code')
    op.drop_table('totp_secret')
