"""import jobs: the preview and the import of an upload run in the worker, with progress

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('uploaded', 'previewing', 'previewed', 'importing', 'imported', 'failed', name='importstatus', native_enum=False, create_constraint=True, length=20), server_default='uploaded', nullable=False))
        batch_op.add_column(sa.Column('done', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('total', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('result', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', eventapp.timezones.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('error', sa.Text(), server_default=sa.text("''"), nullable=False))


def downgrade():
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.drop_column('error')
        batch_op.drop_column('attempts')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('result')
        batch_op.drop_column('total')
        batch_op.drop_column('done')
        batch_op.drop_column('status')
