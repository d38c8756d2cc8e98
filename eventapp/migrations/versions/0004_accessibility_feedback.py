"""accessibility feedback

Revision ID: 0004
Revises: 0003

"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accessibility_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('page', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('updated_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accessibility_feedback'))
    )


def downgrade():
    op.drop_table('accessibility_feedback')
