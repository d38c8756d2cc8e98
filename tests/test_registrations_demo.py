"""Demo participants: plausible, registered through the real rules, fast enough for the seed."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from eventapp.demo.participants import create_participants
from eventapp.extensions import db
from eventapp.models import Activity, Enrolment, EnrolmentStatus, Network, Registration
from tests.factories import make_activity, make_event


def test_create_participants_fills_and_waitlists_popular_workshops(ctx: Flask) -> None:
    event = make_event(per_network_limit=3)
    db.session.add_all(
        [Network(name=f"Fachkräftenetzwerk {i}", state="Sachsen") for i in range(20)]
    )
    popular = make_activity(event, "Beliebt", "10:00", "11:00", capacity=30)
    make_activity(event, "Weniger beliebt", "10:00", "11:00", capacity=30)
    make_activity(event, "Nachmittag", "14:00", "15:00", capacity=200)
    seen: list[int] = []
    created = create_participants(event, 300, progress=seen.append)
    db.session.commit()
    assert created == 300 and seen[-1] == 300
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 300
    assert db.session.get(Activity, popular.id).seats_taken == 30
    waiting = db.session.scalar(
        sa.select(sa.func.count(Enrolment.id)).where(
            Enrolment.activity_id == popular.id, Enrolment.status == EnrolmentStatus.WAITLISTED
        )
    )
    assert waiting > 0
    per_network = db.session.execute(
        sa.select(Registration.network_id, sa.func.count())
        .where(Registration.network_id.is_not(None))
        .group_by(Registration.network_id)
    ).all()
    assert max(n for _id, n in per_network) <= 3
    states = db.session.scalars(sa.select(Registration.state).distinct()).all()
    assert "Sachsen" in states
