"""export log: who exported which personal data, when and from where

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('organiser_email', sa.String(length=254), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_export_log_event_id_event'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_export_log_organiser_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log'))
    )
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.create_index('ix_export_log_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index('ix_export_log_created_at')

    op.drop_table('export_log')
