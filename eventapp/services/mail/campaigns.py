"""Campaigns (Rundmails): one text to a group of participants, sent throttled by the worker.

Recipients are fixed when the organiser sends: one outbox row per person in one transaction,
each with its slot in a schedule kept in the database (MAIL_CAMPAIGN_MAILS_PER_MINUTE), so every
worker on every host keeps to the same pace. The text is rendered by the worker, per person.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp import urls
from eventapp.extensions import db
from eventapp.models import (
    Activity,
    CampaignStatus,
    Enrolment,
    EnrolmentStatus,
    Event,
    MailCampaign,
    MailStatus,
    Organiser,
    OutboxMail,
    Registration,
)
from eventapp.services import DomainError
from eventapp.services.mail import campaign_schedule as schedule
from eventapp.services.mail import campaign_text, mime, outbox
from eventapp.services.mail.campaign_schedule import KIND
from eventapp.services.mail.campaign_segments import (
    Segment,
    check_segment,
    recipients,
    segment_label,
)
from eventapp.services.mail.greeting import greeting_for
from eventapp.services.registration.links import add_manage_link, holds_manage_token
from eventapp.services.registration.tokens import seal, unseal
from eventapp.timezones import to_local, utcnow

log = logging.getLogger(__name__)

# The outbox kind of a test mail (to the organiser, with a sample person's data).
TEST_KIND = "campaign_test"


# -- the text, per person -------------------------------------------------------------------


def workshops_text(registration: Registration, language: str) -> str:
    """Return the person's workshops and exchange circles, one line each, in the language."""
    from eventapp.services.mail.registration_mail import active_choices

    zone = registration.event.timezone
    with force_locale(language):
        lines = []
        for row in active_choices(registration):
            activity = row["activity"]
            starts, ends = to_local(activity.starts_at, zone), to_local(activity.ends_at, zone)
            when = f"{starts:%H:%M}–{ends:%H:%M}"
            room = f" ({activity.room.name})" if activity.room else ""
            if row["enrolment"].status == EnrolmentStatus.CONFIRMED:
                state = _("Platz bestätigt")
            else:
                state = _("Warteliste, Platz %(position)s", position=row["position"])
            lines.append(f"- {when} {activity.title}{room}: {state}")
        if not lines:
            return _("Sie haben keine Workshops oder Erfahrungsaustauschkreise gewählt.")
        return "\n".join(lines)


def example_link() -> str:
    """Return what stands for the personal link in a preview or a test mail (not a real one)."""
    return _("[persönlicher Link – wird beim Versand für jede Person neu erzeugt]")


def values_for(registration: Registration, language: str, link: str) -> dict[str, str]:
    """Return what each placeholder stands for in this person's mail."""
    return {
        "anrede": greeting_for(registration, language),
        "vorname": registration.first_name,
        "name": registration.last_name,
        "verwaltungslink": link,
        "workshops": workshops_text(registration, language),
    }


def fill_subject(subject: str, registration: Registration, language: str) -> str:
    """Return the subject for one person (names only; one line)."""
    values = {
        "anrede": greeting_for(registration, language),
        "vorname": registration.first_name,
        "name": registration.last_name,
    }
    return " ".join(campaign_text.fill(subject, values).split())


@dataclass
class Draft:
    """What the organiser wrote: subject, text, language of the placeholders."""

    subject: str
    body: str
    language: str = "de"


def preview(draft: Draft, registration: Registration) -> tuple[str, str]:
    """Return subject and text as this person would get them (with a stand-in link)."""
    campaign_text.ensure_valid(draft.subject, draft.body)
    values = values_for(registration, draft.language, example_link())
    return fill_subject(draft.subject, registration, draft.language), campaign_text.fill(
        draft.body, values
    )


def queue_test_mail(draft: Draft, sample: Registration, organiser: Organiser) -> int:
    """Queue the mail as the sample person would get it, to the organiser, marked as a test.

    Returns the queued mail's id.
    """
    campaign_text.ensure_valid(draft.subject, draft.body)
    subject = _(
        "[Testmail] %(subject)s", subject=fill_subject(draft.subject, sample, draft.language)
    )
    return outbox.queue_for_rendering(
        organiser.email,
        subject,
        {"subject": draft.subject, "body": draft.body, "language": draft.language, "test": True},
        kind=TEST_KIND,
        registration=sample,
    )


# -- sending ----------------------------------------------------------------------------------


def new_send_key() -> str:
    """Return the random key of one confirmation form (a repeated click finds its campaign)."""
    return secrets.token_urlsafe(24)


def campaign_for_key(send_key: str) -> MailCampaign | None:
    """Return the campaign already sent from this confirmation form, if any."""
    return db.session.scalar(sa.select(MailCampaign).where(MailCampaign.send_key == send_key))


def send(
    event: Event, segment: Segment, draft: Draft, organiser: Organiser, send_key: str
) -> MailCampaign:
    """Fix the recipients and queue one mail each, in this transaction (flushes).

    A second send with the same key returns the campaign of the first; the unique constraint
    on (campaign, registration) keeps each person to one mail whatever happens.
    """
    existing = campaign_for_key(send_key)
    if existing is not None:
        return existing
    check_segment(event, segment)
    campaign_text.ensure_valid(draft.subject, draft.body)
    people = recipients(event, segment)
    if not people:
        raise DomainError(_("Diese Auswahl enthält niemanden mit E-Mail-Adresse."), "segment")
    schedule.lock_schedule()
    config = current_app.config
    slots = schedule.take_slots(len(people), schedule.interval(config))
    now = utcnow()
    campaign = MailCampaign(
        event_id=event.id,
        created_by_id=organiser.id,
        created_by_email=organiser.email,
        subject=draft.subject,
        body=draft.body,
        language=draft.language,
        segment=segment.as_dict(),
        segment_label=segment_label(event, segment)[:300],
        status=CampaignStatus.SENDING,
        recipient_count=len(people),
        sent_at=now,
        last_slot_at=slots[-1],
        send_key=send_key,
    )
    db.session.add(campaign)
    db.session.flush()
    with_link = "verwaltungslink" in campaign_text.used(draft.body)
    secret_key = config["SECRET_KEY"]
    for person, slot in zip(people, slots, strict=True):
        data: dict[str, Any] = {"campaign": campaign.id}
        if with_link:  # a further private link; earlier links and the calendar feed stay valid
            token = add_manage_link(person, now)
            data["sealed_token"] = seal(token, secret_key)
        outbox.queue_for_rendering(
            person.email,
            fill_subject(draft.subject, person, draft.language),
            data,
            kind=KIND,
            registration=person,
            campaign_id=campaign.id,
            not_before=slot,
        )
    db.session.flush()
    return campaign


# -- progress ---------------------------------------------------------------------------------


@dataclass
class Progress:
    """How far a campaign's mails have got."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def done(self) -> int:
        """Return the mails no longer waiting (sent or given up)."""
        return self.sent + self.failed


def progress(campaigns: Sequence[MailCampaign]) -> dict[int, Progress]:
    """Return each campaign's counts of sent, failed and waiting mails (one query)."""
    result = {c.id: Progress(total=c.recipient_count) for c in campaigns}
    if not result:
        return result
    rows = db.session.execute(
        sa.select(OutboxMail.campaign_id, OutboxMail.status, sa.func.count(OutboxMail.id))
        .where(OutboxMail.campaign_id.in_(list(result)), OutboxMail.kind == KIND)
        .group_by(OutboxMail.campaign_id, OutboxMail.status)
    ).all()
    for campaign_id, status, count in rows:
        setattr(result[campaign_id], MailStatus(status).value, int(count))
    return result


def event_campaigns(event: Event) -> list[MailCampaign]:
    """Return the event's campaigns, newest first."""
    return list(
        db.session.scalars(
            sa.select(MailCampaign)
            .where(MailCampaign.event_id == event.id)
            .order_by(MailCampaign.created_at.desc(), MailCampaign.id.desc())
        )
    )


def mark_finished(now: datetime | None = None) -> int:
    """Mark sending campaigns with no mail left waiting as sent (the caller commits)."""
    now = now or utcnow()
    waiting = sa.select(OutboxMail.id).where(
        OutboxMail.campaign_id == MailCampaign.id, OutboxMail.status == MailStatus.PENDING
    )
    result = db.session.execute(
        sa.update(MailCampaign)
        .where(MailCampaign.status == CampaignStatus.SENDING, ~sa.exists(waiting))
        .values(status=CampaignStatus.SENT, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


# -- rendering in the worker ------------------------------------------------------------------

_MAIL_DATA = (
    selectinload(Registration.event),
    selectinload(Registration.enrolments)
    .selectinload(Enrolment.activity)
    .selectinload(Activity.room),
)


def load_batch(batch: Sequence[OutboxMail]) -> list[Any]:
    """Load the registrations and campaigns of a batch of campaign mails in a few queries."""
    mails = [m for m in batch if m.kind in {KIND, TEST_KIND}]
    registration_ids = {m.registration_id for m in mails if m.registration_id}
    campaign_ids = {m.campaign_id for m in mails if m.campaign_id}
    loaded: list[Any] = []
    if registration_ids:
        query = sa.select(Registration).where(Registration.id.in_(registration_ids))
        loaded += db.session.scalars(query.options(*_MAIL_DATA)).all()
    if campaign_ids:
        query = sa.select(MailCampaign).where(MailCampaign.id.in_(campaign_ids))
        loaded += db.session.scalars(query).all()
    return loaded


def render(mail: OutboxMail) -> bytes | None:
    """Build a campaign mail (or a test mail) for its person as they are now."""
    data = mail.render_data or {}
    registration = (
        db.session.get(Registration, mail.registration_id, options=_MAIL_DATA)
        if mail.registration_id is not None
        else None
    )
    if registration is None:
        return None
    if data.get("test"):
        draft = Draft(data.get("subject", ""), data.get("body", ""), data.get("language", "de"))
        with force_locale(draft.language):
            link = example_link()
            notice = _(
                "TESTMAIL – so sieht die E-Mail für %(name)s aus. Der persönliche Link wird "
                "erst beim Versand erzeugt.",
                name=registration.full_name,
            )
        filled = campaign_text.fill(draft.body, values_for(registration, draft.language, link))
        body = f"{notice}\n\n{filled}"
    else:
        campaign = db.session.get(MailCampaign, mail.campaign_id) if mail.campaign_id else None
        if campaign is None:
            return None
        wanted = campaign_text.used(campaign.body)
        link = _link(registration, data, campaign) if "verwaltungslink" in wanted else ""
        body = campaign_text.fill(campaign.body, values_for(registration, campaign.language, link))
    return mime.build_message(
        current_app.config["MAIL_FROM"], mail.recipient, mail.subject, body, None, []
    )


def _link(registration: Registration, data: dict[str, Any], campaign: MailCampaign) -> str:
    """Return the person's private link, or the page to ask for one if it changed since."""
    token = (
        unseal(data["sealed_token"], current_app.config["SECRET_KEY"])
        if ("sealed_token" in data)
        else None
    )
    with urls.from_public_base():
        if token and holds_manage_token(registration, token):
            return urls.manage_url(registration.event, token)
        with force_locale(campaign.language):
            return _(
                "Ihr persönlicher Link wurde inzwischen neu ausgestellt; hier können Sie ihn "
                "anfordern: %(url)s",
                url=urls.resend_url(registration.event),
            )


def register() -> None:
    """Let the worker render campaign and test mails (called by create_app)."""
    outbox.register_renderer((KIND, TEST_KIND), render, load_batch)
