"""account tokens and log: invitations and password resets by mail, admin changes to accounts

Revision ID: 0009
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('invite', 'reset', name='accounttokenpurpose', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('expires_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('used_at', eventapp.timezones.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', eventapp.timezones.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_account_token_organiser_id_organiser'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash'))
    )
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_token_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('account_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('account_email', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['organiser.id'], name=op.f('fk_account_log_account_id_organiser'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['actor_id'], ['organiser.id'], name=op.f('fk_account_log_actor_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_log'))
    )
    with op.batch_alter_table('account_log', schema=None) as batch_op:
        batch_op.create_index('ix_account_log_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('account_log', schema=None) as batch_op:
        batch_op.drop_index('ix_account_log_created_at')

    op.drop_table('account_log')
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_token_organiser_id'))

    op.drop_table('account_token')
