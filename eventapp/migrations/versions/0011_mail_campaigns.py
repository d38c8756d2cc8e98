"""mail campaigns

Revision ID: 0011
Revises: 0010


"""
from alembic import op
import sqlalchemy as sa

import eventapp.timezones


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_email', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('segment', sa.JSON(), nullable=False),
    sa.Column('segment_label', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('sending', 'sent', name='campaignstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('sent_at', eventapp.timezones.UTCDateTime(), nullable=True),
    sa.Column('last_slot_at', eventapp.timezones.UTCDateTime(), nullable=True),
    sa.Column('finished_at', eventapp.timezones.UTCDateTime(), nullable=True),
    sa.Column('send_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.Column('updated_at', eventapp.timezones.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['organiser.id'], name=op.f('fk_mail_campaign_created_by_id_organiser'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_mail_campaign_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_campaign')),
    sa.UniqueConstraint('send_key', name=op.f('uq_mail_campaign_send_key'))
    )
    with op.batch_alter_table('mail_campaign', schema=None) as batch_op:
        batch_op.create_index('ix_mail_campaign_event_created', ['event_id', 'created_at'], unique=False)

    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_outbox_mail_campaign_registration', ['campaign_id', 'registration_id'])
        batch_op.create_foreign_key(batch_op.f('fk_outbox_mail_campaign_id_mail_campaign'), 'mail_campaign', ['campaign_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_mail_campaign_id_mail_campaign'), type_='foreignkey')
        batch_op.drop_constraint('uq_outbox_mail_campaign_registration', type_='unique')
        batch_op.drop_column('campaign_id')

    with op.batch_alter_table('mail_campaign', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_campaign_event_created')

    op.drop_table('mail_campaign')
