"""feed tokens and manage links: a calendar feed independent of the manage link, further links

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_registration_calendar_token'), ['calendar_token'])

    op.create_table('manage_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_manage_link_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manage_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_manage_link_token_hash'))
    )
    with op.batch_alter_table('manage_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manage_link_registration_id'), ['registration_id'], unique=False)


def downgrade():
    with op.batch_alter_table('manage_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manage_link_registration_id'))

    op.drop_table('manage_link')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registration_calendar_token'), type_='unique')
        batch_op.drop_column('calendar_token')
