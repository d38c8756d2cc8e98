"""pending imports: uploaded tables kept between preview and confirmation

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('participants', 'people', 'programme', name='importkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('expires_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_pending_import_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_pending_import_organiser_id_organiser'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_import'))
    )
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_import_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_import_organiser_id'), ['organiser_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_import_organiser_id'))
        batch_op.drop_index(batch_op.f('ix_pending_import_expires_at'))

    op.drop_table('pending_import')
