"""background worker: print files in the database, job heartbeats, mail delivery marks

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('print_job_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('expires_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['print_job.id'], name=op.f('fk_print_job_file_job_id_print_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_job_file')),
    sa.UniqueConstraint('job_id', name=op.f('uq_print_job_file_job_id'))
    )
    with op.batch_alter_table('print_job_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_job_file_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', eventapp.timezones.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('result_path')
        batch_op.drop_column('worker_host')
        batch_op.drop_column('worker_pid')

    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_started_at', eventapp.timezones.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_column('delivery_started_at')

    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('worker_host', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('result_path', sa.String(length=300), server_default='', nullable=False))
        batch_op.drop_column('attempts')
        batch_op.drop_column('heartbeat_at')

    with op.batch_alter_table('print_job_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_job_file_expires_at'))

    op.drop_table('print_job_file')
