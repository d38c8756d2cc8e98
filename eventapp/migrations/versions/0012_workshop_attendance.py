"""workshop attendance: who was let in at which workshop door, when, where

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workshop_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('scanned_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('desk', sa.String(length=60), server_default=sa.text("''"), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_workshop_attendance_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_workshop_attendance_organiser_id_organiser'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_workshop_attendance_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshop_attendance')),
    sa.UniqueConstraint('activity_id', 'registration_id', name='uq_workshop_attendance_activity_registration')
    )
    with op.batch_alter_table('workshop_attendance', schema=None) as batch_op:
        batch_op.create_index('ix_workshop_attendance_registration', ['registration_id'], unique=False)



def downgrade():
    with op.batch_alter_table('workshop_attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_workshop_attendance_registration')

    op.drop_table('workshop_attendance')
