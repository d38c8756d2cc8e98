"""Every kind of page, public and organiser, in its states, on the demo Innovationstag.

The accessibility checks (Nu HTML Checker, axe-core, reflow at 320 px) walk this one list, so
a new page is checked everywhere once it is added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.demo.event import seed_demo
from eventapp.demo.history import add_demo_history
from eventapp.demo.participants import create_participants
from eventapp.extensions import db
from eventapp.models import (
    AccountTokenPurpose,
    Activity,
    Enrolment,
    EnrolmentStatus,
    ImportKind,
    ImportStatus,
    OrganiserRole,
    Person,
    Registration,
)
from eventapp.services.accounts import links, team
from eventapp.services.imports import jobs as import_jobs
from eventapp.services.imports import pending as pending_imports
from eventapp.services.imports.rows import ImportOptions
from eventapp.services.mail import campaign_segments, campaigns
from eventapp.services.printing import jobs as print_jobs
from eventapp.services.registration import registrations as service
from eventapp.timezones import utcnow
from tests.factories import make_organiser

ORGANISER = ("admin@example.org", "admin-password-1")


@dataclass(frozen=True)
class PageKind:
    """One page in one state: GET path, or a form POST to path (then a GET of follow)."""

    name: str
    path: str
    organiser: bool = False
    post: dict[str, str] | None = None
    follow: str | None = None
    status: int = 200
    wide_table: bool = False
    # axe rules not held on this page, each a known gap named in the accessibility statement.
    axe_known_gaps: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """Return the URL whose page is checked."""
        return self.follow or self.path


@dataclass
class DemoPages:
    """The demo data's ids and the list of page kinds built on them."""

    slug: str
    event_id: int
    kinds: list[PageKind] = field(default_factory=list)


def registration_form_data(email: str, choice: int | None = None) -> dict[str, str]:
    """Return what a participant fills into the public registration form."""
    data = {
        "first_name": "Friederike",
        "last_name": "Schwarzenberger-Oberhollenzer",
        "organisation": "Kreishandwerkerschaft Südwestfalen",
        "state": "Nordrhein-Westfalen",
        "email": email,
        "role": "participant",
        "language": "de",
        "privacy_consent": "y",
    }
    if choice is not None:
        data["slot-waehlen"] = str(choice)
    return data


def campaign_form_data(activity_id: int, action: str) -> dict[str, str]:
    """Return a filled campaign form to the waiting list of a workshop, with an action."""
    return {
        "segment": "workshop_waiting",
        "activity": str(activity_id),
        "network": "",
        "role": "participant",
        "language": "de",
        "subject": "Neuigkeiten zu Ihrem Workshop, {vorname} {name}",
        "body": "{anrede},\n\nSie warten auf:\n{workshops}\n\nIhr Link: {verwaltungslink}",
        "aktion": action,
    }


def build_demo_pages(app: Flask) -> DemoPages:
    """Load the demo day with participants, a full workshop with a waiting list and a print job."""
    with app.app_context():
        event = seed_demo().event
        admin = make_organiser(*ORGANISER, role="admin")
        colleague = make_organiser("kollegin@example.org", "kollegin-password-1", role="staff")
        invited = team.invite(
            admin, "neu@example.org", "Neue Kollegin", OrganiserRole.CHECKIN, "127.0.0.1"
        )
        invitation = links.issue(invited, AccountTokenPurpose.INVITE)
        reset = links.issue(colleague, AccountTokenPurpose.RESET)
        create_participants(event, 40)
        workshops = [a for a in event.activities if a.requires_enrolment]
        # One workshop with a single seat: the first taker gets it, the next one waits.
        full = next(a for a in workshops if a.seats_taken == 0)
        full.capacity = 1
        first = service.register(
            event,
            service.Participant(
                first_name="Erika",
                last_name="Mustermann",
                email="erika@example.org",
                privacy_consent_version="2026-01",
                organisation="Agentur für Arbeit Stendal",
            ),
            {full.id},
        )
        waiting = service.register(
            event,
            service.Participant(
                first_name="Bartholomäus",
                last_name="Wartelistenberger",
                email="bartholomaeus@example.org",
                privacy_consent_version="2026-01",
                organisation="Industrie- und Handelskammer Ostbrandenburg",
            ),
            {full.id},
        )
        assert waiting.enrolments[0].status == EnrolmentStatus.WAITLISTED
        # Registration times over weeks and check-ins on the morning, for the dashboard.
        add_demo_history(event)
        job = print_jobs.create_job(event, "badges", {"layout": "a4-10"}, None)
        with_speakers = max(
            event.activities, key=lambda a: len(a.speakers) + len(a.moderators) + len(a.title)
        )
        enrolled = db.session.scalar(
            sa.select(Activity.id)
            .join(Enrolment, Enrolment.activity_id == Activity.id)
            .where(Activity.event_id == event.id)
            .limit(1)
        )
        someone = db.session.scalar(
            sa.select(Registration.id).where(Registration.event_id == event.id).limit(1)
        )
        person = db.session.scalar(sa.select(Person.id).limit(1))
        # A workshop door where Erika (enrolled elsewhere) is not enrolled and seats are free.
        door = next(a for a in workshops if a.id != full.id and a.capacity and not a.is_full)
        room = event.rooms[0].id
        upload = pending_imports.store(
            admin,
            event,
            ImportKind.PARTICIPANTS,
            "teilnehmende-mit-einem-sehr-langen-dateinamen-2026.csv",
            (
                "Vorname;Nachname;E-Mail-Adresse;Organisation;Bundesland;Workshops\r\n"
                f"Jürgen;Groß;juergen@example.org;Handwerkskammer Köln;NRW;{full.id}\r\n"
                "Änne;;kein-at-zeichen;IHK Potsdam;Mars;Gibt es nicht\r\n"
            ).encode("cp1252"),
            ImportOptions(consent_version="2026-01"),
        )
        campaign = campaigns.send(
            event,
            campaign_segments.Segment("workshop_waiting", activity_id=full.id),
            campaigns.Draft("Ein Platz wird frei?", "{anrede},\n\n{workshops}\n"),
            admin,
            campaigns.new_send_key(),
        )
        # A second upload whose check is still running (its worker's state set by hand).
        running_upload = pending_imports.store(
            admin, event, ImportKind.PEOPLE, "personen.csv", b"x", ImportOptions()
        )
        running_upload.status = ImportStatus.PREVIEWING
        running_upload.done, running_upload.total = 340, 1000
        running_upload.heartbeat_at = utcnow()
        db.session.commit()
        import_jobs.run_preview(upload.id)  # the worker's check, as after a real upload
        pages = DemoPages(slug=event.slug, event_id=event.id)
        slug, eid = event.slug, event.id
        manage = f"/{slug}/verwalten/{first.manage_token}"
        manage_waiting = f"/{slug}/verwalten/{waiting.manage_token}"
        org = f"/organisation/veranstaltungen/{eid}"
        pages.kinds = [
            # Public
            PageKind("start", "/"),
            PageKind("event and programme", f"/{slug}/"),
            PageKind("activity", f"/{slug}/programm/{with_speakers.id}"),
            PageKind("activity, full workshop", f"/{slug}/programm/{full.id}"),
            PageKind("registration form", f"/{slug}/anmeldung"),
            PageKind("registration form, errors", f"/{slug}/anmeldung", post={}, status=400),
            PageKind(
                "confirmation",
                f"/{slug}/anmeldung",
                post=registration_form_data("friederike@example.org"),
                follow=f"/{slug}/anmeldung/bestaetigt",
            ),
            PageKind("manage page", manage),
            PageKind("manage page, waiting list", manage_waiting),
            PageKind("manage page, details", f"{manage}/angaben"),
            PageKind("manage page, details with errors", f"{manage}/angaben", post={}, status=400),
            PageKind("request link", f"/{slug}/link-anfordern"),
            PageKind("request link, errors", f"/{slug}/link-anfordern", post={}, status=400),
            PageKind("login", "/organisation/anmelden"),
            PageKind("login, errors", "/organisation/anmelden", post={}, status=400),
            PageKind("forgotten password", "/organisation/passwort-vergessen"),
            PageKind(
                "forgotten password, errors",
                "/organisation/passwort-vergessen",
                post={"email": "kein Name"},
                status=400,
            ),
            PageKind(
                "forgotten password, link requested",
                "/organisation/passwort-vergessen",
                post={"email": "irgendwer@example.org"},
                follow="/organisation/passwort-vergessen/gesendet",
            ),
            PageKind("new password", f"/organisation/passwort/{reset}"),
            PageKind(
                "new password, errors",
                f"/organisation/passwort/{reset}",
                post={"password": "kurz", "password_again": "anders"},
                status=400,
            ),
            PageKind("new password, invitation", f"/organisation/passwort/{invitation}"),
            PageKind("password link invalid", "/organisation/passwort/abgelaufen-123", status=404),
            PageKind("not found", f"/{slug}/programm/999999", status=404),
            PageKind("accessibility statement", "/barrierefreiheit"),
            PageKind("accessibility feedback, errors", "/barrierefreiheit", post={}, status=400),
            PageKind("registration in Leichte Sprache", f"/{slug}/leichte-sprache"),
            # Rendered by the vendored Redoc: its menu entries are named without the visible
            # HTTP method (WCAG 2.5.3); the statement lists this, the JSON file is the fallback.
            PageKind(
                "API documentation", "/api/v1/docs", axe_known_gaps=("label-content-name-mismatch",)
            ),
            # Organisers
            PageKind("dashboard", "/organisation/", organiser=True),
            PageKind("new event", "/organisation/veranstaltungen/neu", organiser=True),
            PageKind(
                "new event, errors",
                "/organisation/veranstaltungen/neu",
                organiser=True,
                post={},
                status=400,
            ),
            PageKind("event overview", f"{org}/", organiser=True),
            PageKind("event settings", f"{org}/einstellungen", organiser=True),
            PageKind("rooms", f"{org}/raeume", organiser=True),
            PageKind("room", f"{org}/raeume/{room}", organiser=True),
            PageKind("people", "/organisation/personen", organiser=True),
            PageKind("person", f"/organisation/personen/{person}", organiser=True),
            PageKind("programme", f"{org}/programm", organiser=True),
            PageKind("timetable", f"{org}/zeitplan", organiser=True),
            PageKind("new activity", f"{org}/programm/neu", organiser=True),
            PageKind(
                "new activity, errors", f"{org}/programm/neu", organiser=True, post={}, status=400
            ),
            PageKind("activity form", f"{org}/programm/{with_speakers.id}", organiser=True),
            PageKind("registrations", f"{org}/anmeldungen/", organiser=True, wide_table=True),
            PageKind(
                "registrations, filtered and sorted",
                f"{org}/anmeldungen/?status=confirmed&sortierung=netzwerk&richtung=ab",
                organiser=True,
                wide_table=True,
            ),
            PageKind(
                "cancel a selection, confirmation",
                f"{org}/anmeldungen/auswahl/",
                organiser=True,
                post={"aktion": "stornieren", "auswahl": str(someone)},
            ),
            PageKind(
                "write to a selection",
                f"{org}/anmeldungen/auswahl/",
                organiser=True,
                post={"aktion": "mail", "auswahl": str(someone)},
            ),
            PageKind(
                "put a selection into a workshop",
                f"{org}/anmeldungen/auswahl/",
                organiser=True,
                post={"aktion": "workshop", "auswahl": str(someone)},
            ),
            PageKind(
                "put a selection into a workshop, errors",
                f"{org}/anmeldungen/auswahl/workshop",
                organiser=True,
                post={"auswahl": str(someone)},
                status=400,
            ),
            PageKind(
                "put a selection into a workshop, confirmation",
                f"{org}/anmeldungen/auswahl/workshop",
                organiser=True,
                post={"auswahl": str(someone), "workshop": str(full.id)},
            ),
            PageKind("offers", f"{org}/anmeldungen/angebote", organiser=True),
            PageKind("offer", f"{org}/anmeldungen/angebote/{enrolled}", organiser=True),
            PageKind("registration", f"{org}/anmeldungen/{someone}", organiser=True),
            PageKind("new registration", f"{org}/anmeldungen/neu", organiser=True),
            PageKind("change notices", f"{org}/aenderungsmitteilungen", organiser=True),
            PageKind("dashboard figures", f"{org}/auswertung/", organiser=True),
            PageKind("print page", f"{org}/druck/", organiser=True),
            PageKind("print job", f"{org}/druck/auftraege/{job.id}", organiser=True),
            PageKind("undelivered mails", "/organisation/e-mails/", organiser=True),
            PageKind("accounts", "/organisation/konten/", organiser=True),
            PageKind("account", f"/organisation/konten/{colleague.id}", organiser=True),
            PageKind("account, invited", f"/organisation/konten/{invited.id}", organiser=True),
            PageKind(
                "account, role error",
                f"/organisation/konten/{colleague.id}/rolle",
                organiser=True,
                post={"role": "chef"},
                status=400,
            ),
            PageKind(
                "deactivate account",
                f"/organisation/konten/{colleague.id}/deaktivieren",
                organiser=True,
            ),
            PageKind("invite", "/organisation/konten/einladen", organiser=True),
            PageKind(
                "invite, errors",
                "/organisation/konten/einladen",
                organiser=True,
                post={"email": "keine-adresse", "role": "chef"},
                status=400,
            ),
            PageKind("campaigns", f"{org}/rundmails/", organiser=True),
            PageKind("campaign", f"{org}/rundmails/{campaign.id}", organiser=True),
            PageKind("new campaign", f"{org}/rundmails/neu", organiser=True),
            PageKind(
                "new campaign, errors",
                f"{org}/rundmails/neu",
                organiser=True,
                post=campaign_form_data(full.id, "vorschau") | {"body": "{unbekannt}"},
                status=400,
            ),
            PageKind(
                "new campaign, preview",
                f"{org}/rundmails/neu",
                organiser=True,
                post=campaign_form_data(full.id, "vorschau"),
            ),
            PageKind(
                "new campaign, confirm",
                f"{org}/rundmails/neu",
                organiser=True,
                post=campaign_form_data(full.id, "pruefen"),
            ),
            PageKind("check-in", "/organisation/einlass/", organiser=True),
            PageKind("badge desk", f"/organisation/einlass/{eid}/?q=a", organiser=True),
            PageKind(
                "walk-in registration", f"/organisation/einlass/{eid}/spontan", organiser=True
            ),
            PageKind("import upload", f"{org}/import/", organiser=True),
            PageKind(
                "import upload, errors", f"{org}/import/", organiser=True, post={}, status=400
            ),
            PageKind(
                "import preview, errors",
                f"{org}/import/{upload.id}",
                organiser=True,
                wide_table=True,
            ),
            PageKind("import, check running", f"{org}/import/{running_upload.id}", organiser=True),
            PageKind("workshop doors", f"/organisation/einlass/{eid}/workshops/", organiser=True),
            PageKind(
                "workshop door, not enrolled",
                f"/organisation/einlass/{eid}/workshops/{door.id}/",
                organiser=True,
                post={"code": first.registration.checkin_code},
                follow=f"/organisation/einlass/{eid}/workshops/{door.id}/#scan",
            ),
            PageKind(
                "walk-in registration, errors",
                f"/organisation/einlass/{eid}/spontan",
                organiser=True,
                post={},
                status=400,
            ),
        ]
    return pages


def log_in(client: FlaskClient) -> None:
    """Log the test client in as the demo organiser."""
    email, password = ORGANISER
    response = client.post("/organisation/anmelden", data={"email": email, "password": password})
    assert response.status_code == 302, response.status_code


def fetch_html(client: FlaskClient, kind: PageKind) -> str:
    """Return the HTML of a page kind through the test client, checking its status."""
    if kind.post is not None:
        response = client.post(kind.path, data=kind.post)
        if kind.follow:
            assert response.status_code == 302, (kind.name, response.status_code)
            response = client.get(kind.follow)
    else:
        response = client.get(kind.path)
    assert response.status_code == kind.status, (kind.name, response.status_code)
    return response.get_data(as_text=True)


def open_in_browser(page: Any, kind: PageKind) -> None:
    """Show a page kind in the browser, sending its form like a person would."""
    if kind.post is None:
        response = page.goto(kind.path)
        assert response is not None and response.status == kind.status, kind.name
        return
    page.goto(kind.path)
    with page.expect_navigation():
        page.evaluate(
            """([action, data]) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = action;
                for (const [name, value] of Object.entries(data)) {
                    const input = document.createElement("input");
                    input.type = "hidden";
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [kind.path, kind.post],
        )
    if kind.follow:
        assert page.url.endswith(kind.follow), (kind.name, page.url)


def log_in_browser(page: Any) -> None:
    """Log the browser in as the demo organiser (the cookies are the page's own)."""
    email, password = ORGANISER
    page.goto("/organisation/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden").click()
