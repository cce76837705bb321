"""staff groups and links: permission groups, group membership, single-use links (invitations, password
resets) and the record of reset requests

Revision ID: 0012_staff_groups_and_links
Revises: 0009_billed_amounts
Create Date: 2026-12-03 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_staff_groups_and_links'
down_revision = '0011_second_factors'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('grants', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_group')),
        sa.UniqueConstraint('name', name=op.f('uq_staff_group_name')),
    )
    op.create_table(
        'staff_group_member',
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['staff_group.id'], name=op.f('fk_staff_group_member_group_id_staff_group'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'],
                                name=op.f('fk_staff_group_member_staff_user_id_staff_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('staff_user_id', 'group_id', name=op.f('pk_staff_group_member')),
    )
    op.create_table(
        'auth_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_auth_link_contact_id_contact'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_auth_link_staff_user_id_staff_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_link')),
        sa.UniqueConstraint('digest', name=op.f('uq_auth_link_digest')),
    )
    op.create_table(
        'reset_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reset_request')),
    )
    op.create_index('ix_reset_request_email_at', 'reset_request', ['email', 'at'])
    op.create_index('ix_reset_request_ip_at', 'reset_request', ['ip', 'at'])


def downgrade():
    op.drop_index('ix_reset_request_ip_at', table_name='reset_request')
    op.drop_index('ix_reset_request_email_at', table_name='reset_request')
    op.drop_table('reset_request')
    op.drop_table('auth_link')
    op.drop_table('staff_group_member')
    op.drop_table('staff_group')
