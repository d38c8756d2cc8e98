"""The floor: the least a Flask app does for a registration, measured beside eventapp.

A bare Flask + Flask-WTF app with a 12-field registration form (labels as in eventapp's form),
CSRF on, that stores one row with SQLAlchemy and shows a confirmation page, plus a static-ish
programme page for readers. Served by gunicorn the same way as eventapp:

    FLOOR_DATABASE_URL=sqlite:////tmp/floor.sqlite3 gunicorn 'bench.floor_app:create_app()'

It keeps its rows in its own table (``floor_registration``), so it can share a database with
eventapp's benchmark.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

FEDERAL_STATES = [
    "Baden-Württemberg",
    "Bayern",
    "Berlin",
    "Brandenburg",
    "Bremen",
    "Hamburg",
    "Hessen",
    "Mecklenburg-Vorpommern",
    "Niedersachsen",
    "Nordrhein-Westfalen",
    "Rheinland-Pfalz",
    "Saarland",
    "Sachsen",
    "Sachsen-Anhalt",
    "Schleswig-Holstein",
    "Thüringen",
]

# What the readers' page shows: a fixed programme, no database.
PROGRAMME = [
    (
        f"{9 + i // 2:02d}:{30 * (i % 2):02d}",
        f"Workshop {i + 1}: Fachkräfte sichern",
        f"Raum {i % 6}",
    )
    for i in range(20)
]


class Base(DeclarativeBase):
    """The floor's own tables."""


class FloorRegistration(Base):
    """One registration, as plain as it gets."""

    __tablename__ = "floor_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    salutation: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(60))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    organisation: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(40))
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[str] = mapped_column(sa.String(20))
    language: Mapped[str] = mapped_column(sa.String(2))
    accessibility_needs: Mapped[str] = mapped_column(sa.Text)
    dietary_wishes: Mapped[str] = mapped_column(sa.Text)
    privacy_consent_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


# eventapp's own tables, read by the list floor as they are (no models, no eager loading).
REGISTRATION = sa.table(
    "registration",
    *(sa.column(name) for name in ("id", "event_id", "first_name", "last_name", "email")),
    *(sa.column(name) for name in ("organisation", "role", "status", "network_id")),
)
NETWORK = sa.table("network", sa.column("id"), sa.column("name"))
ENROLMENT = sa.table(
    "enrolment", sa.column("registration_id"), sa.column("activity_id"), sa.column("status")
)
ACTIVITY = sa.table("activity", sa.column("id"), sa.column("title"))


class FloorRegistrationForm(FlaskForm):
    """Twelve fields, labelled as in eventapp's registration form."""

    salutation = SelectField(
        "Anrede",
        choices=[SelectChoice("", "keine Angabe"), SelectChoice("Frau"), SelectChoice("Herr")],
    )
    title = StringField("Titel", validators=[Optional(), Length(max=60)])
    first_name = StringField("Vorname", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Nachname", validators=[DataRequired(), Length(max=100)])
    organisation = StringField("Organisation", validators=[DataRequired(), Length(max=200)])
    state = SelectField(
        "Bundesland",
        choices=[SelectChoice("", "Bitte wählen"), *(SelectChoice(s) for s in FEDERAL_STATES)],
        validators=[DataRequired()],
    )
    email = EmailField("E-Mail-Adresse", validators=[DataRequired(), Length(max=254), Email()])
    role = SelectField(
        "Ich nehme teil als",
        choices=[
            SelectChoice("participant", "Teilnehmer/in"),
            SelectChoice("speaker", "Referent/in"),
            SelectChoice("press", "Presse"),
        ],
    )
    language = SelectField(
        "Sprache für E-Mails",
        choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
    )
    accessibility_needs = TextAreaField(
        "Barrierefreiheit: Was brauchen Sie?", validators=[Optional(), Length(max=1000)]
    )
    dietary_wishes = TextAreaField(
        "Wünsche zur Verpflegung", validators=[Optional(), Length(max=1000)]
    )
    privacy_consent = BooleanField(
        "Ich habe die Datenschutzhinweise gelesen und bin mit der Verarbeitung einverstanden.",
        validators=[DataRequired()],
    )


TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>{% block content %}{% endblock %}</main></body></html>""",
    "form.html": """{% extends "base.html" %}
{% block title %}Anmeldung – Innovationstag{% endblock %}
{% block content %}
<h1>Anmeldung: Innovationstag</h1>
<form method="post" novalidate>
  {{ form.csrf_token }}
  {% for field in form if field.type != "CSRFTokenField" %}
  <div class="field{% if field.errors %} has-error{% endif %}">
    {% if field.type == "BooleanField" %}{{ field() }} {{ field.label }}
    {% else %}{{ field.label }} {{ field() }}{% endif %}
    {% for error in field.errors %}<p class="error-message">{{ error }}</p>{% endfor %}
  </div>
  {% endfor %}
  <button type="submit">Verbindlich anmelden</button>
</form>
{% endblock %}""",
    "confirmation.html": """{% extends "base.html" %}
{% block title %}Anmeldung bestätigt{% endblock %}
{% block content %}
<h1>Vielen Dank, {{ registration.first_name }} {{ registration.last_name }}!</h1>
<p>Ihre Anmeldung ist eingegangen (Nummer {{ registration.id }}). Die Bestätigung geht an
{{ registration.email }}.</p>
{% endblock %}""",
    "list.html": """{% extends "base.html" %}
{% block title %}Anmeldungen{% endblock %}
{% block content %}
<h1>Anmeldungen</h1>
<p>{{ total }} Treffer · Seite {{ page }}</p>
<table><thead><tr><th>Name</th><th>Organisation</th><th>Netzwerk</th><th>Rolle</th><th>Status</th>
<th>Workshops</th></tr></thead><tbody>
{% for r in rows %}
<tr><td>{{ r.last_name }}, {{ r.first_name }}<br>{{ r.email }}</td><td>{{ r.organisation }}</td>
<td>{{ r.network or "" }}</td><td>{{ r.role }}</td><td>{{ r.status }}</td>
<td>{{ workshops.get(r.id, [])|join(", ") }}</td></tr>
{% endfor %}
</tbody></table>
{% endblock %}""",
    "programme.html": """{% extends "base.html" %}
{% block title %}Programm – Innovationstag{% endblock %}
{% block content %}
<h1>Programm</h1>
<table><thead><tr><th>Zeit</th><th>Angebot</th><th>Raum</th></tr></thead><tbody>
{% for time, title, room in programme %}
<tr><td>{{ time }}</td><td>{{ title }}</td><td>{{ room }}</td></tr>
{% endfor %}
</tbody></table>
{% endblock %}""",
}


def make_engine(url: str) -> sa.Engine:
    """Open the database the way eventapp does (SQLite: WAL, busy timeout)."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 15})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def create_app() -> Flask:
    """Build the floor app on FLOOR_DATABASE_URL (its table is created if missing)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("FLOOR_SECRET_KEY", "floor-secret")
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    app.jinja_loader = DictLoader(TEMPLATES)
    engine = make_engine(os.environ["FLOOR_DATABASE_URL"])
    Base.metadata.create_all(engine, checkfirst=True)

    @app.route("/anmeldung", methods=["GET", "POST"])
    def register() -> ResponseReturnValue:
        form = FloorRegistrationForm()
        if not form.validate_on_submit():
            return render_template("form.html", form=form), 400 if form.is_submitted() else 200
        row = FloorRegistration(
            salutation=form.salutation.data or "",
            title=form.title.data or "",
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            organisation=form.organisation.data,
            state=form.state.data,
            email=form.email.data,
            role=form.role.data,
            language=form.language.data,
            accessibility_needs=form.accessibility_needs.data or "",
            dietary_wishes=form.dietary_wishes.data or "",
            privacy_consent_at=datetime.now(UTC),
        )
        with Session(engine, expire_on_commit=False) as db:
            db.add(row)
            db.commit()
            session["registered"] = row.id
        return redirect(url_for("confirmation"))

    @app.route("/anmeldung/bestaetigt")
    def confirmation() -> ResponseReturnValue:
        with Session(engine) as db:
            registration = db.get(FloorRegistration, session.get("registered", 0))
            if registration is None:
                return redirect(url_for("register"))
            return render_template("confirmation.html", registration=registration)

    @app.route("/liste")
    def registration_list() -> ResponseReturnValue:
        """Read one page of eventapp's registrations with bare SQL (the list benchmark's floor)."""
        from flask import request

        page = int(request.args.get("seite", "1"))
        conditions = [REGISTRATION.c.event_id == 1]
        if request.args.get("status"):
            conditions.append(REGISTRATION.c.status == "confirmed")
        order = [REGISTRATION.c.last_name, REGISTRATION.c.first_name, REGISTRATION.c.id]
        if request.args.get("sortierung") == "organisation":
            order.insert(0, REGISTRATION.c.organisation.desc())
        r, n = REGISTRATION, NETWORK
        with engine.connect() as connection:
            total = connection.execute(
                sa.select(sa.func.count()).select_from(r).where(*conditions)
            ).scalar_one()
            rows = connection.execute(
                sa.select(
                    r.c.id, r.c.first_name, r.c.last_name, r.c.email, r.c.organisation,
                    r.c.role, r.c.status, n.c.name.label("network"),
                )
                .select_from(r.outerjoin(n, n.c.id == r.c.network_id))
                .where(*conditions)
                .order_by(*order)
                .limit(50)
                .offset((page - 1) * 50)
            ).all()  # fmt: skip
            workshops: dict[int, list[str]] = {}
            for registration_id, title in connection.execute(
                sa.select(ENROLMENT.c.registration_id, ACTIVITY.c.title)
                .join(ACTIVITY, ACTIVITY.c.id == ENROLMENT.c.activity_id)
                .where(
                    ENROLMENT.c.registration_id.in_([row.id for row in rows]),
                    ENROLMENT.c.status != "cancelled",
                )
            ):
                workshops.setdefault(registration_id, []).append(title)
        return render_template("list.html", rows=rows, total=total, page=page, workshops=workshops)

    @app.route("/programm")
    def programme() -> ResponseReturnValue:
        return render_template("programme.html", programme=PROGRAMME)

    return app


def count_rows(url: str) -> int:
    """Return how many registrations the floor stored."""
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count()).select_from(FloorRegistration)
        ).scalar_one()
    engine.dispose()
    return int(count)


def reset(url: str) -> None:
    """Drop and create the floor's table."""
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
