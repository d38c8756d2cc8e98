"""Import participants: the organiser registration form's checks, the registration service's
seat claims, so capacities and the waiting lists hold in file order."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from eventapp import labels
from eventapp.extensions import db
from eventapp.forms import OrganiserRegistrationForm
from eventapp.models import (
    Activity,
    EnrolmentStatus,
    Event,
    Network,
    ParticipantRole,
    Registration,
    RegistrationStatus,
)
from eventapp.request_numbers import whole_number
from eventapp.services.imports.columns import PARTICIPANT_COLUMNS, ColumnMap, heading_key
from eventapp.services.imports.rows import (
    LANGUAGES,
    ImportOptions,
    Outcome,
    RowRefused,
    RowResult,
    cell_message,
    label_lookup,
    language_error,
    yes_no,
    yes_no_error,
)
from eventapp.services.registration import registrations as service
from eventapp.services.registration.waitlist import event_waitlist_position, waitlist_position

SALUTATIONS = {
    "frau": "Frau", "herr": "Herr", "ms": "Frau", "mrs": "Frau", "mr": "Herr",
    "keineangabe": "", "divers": "",
}  # fmt: skip
# Federal states by name and by their usual abbreviations; "Ausland" for abroad.
STATE_ABBREVIATIONS = {
    "bw": "Baden-Württemberg", "by": "Bayern", "be": "Berlin", "bb": "Brandenburg",
    "hb": "Bremen", "hh": "Hamburg", "he": "Hessen", "mv": "Mecklenburg-Vorpommern",
    "ni": "Niedersachsen", "nw": "Nordrhein-Westfalen", "nrw": "Nordrhein-Westfalen",
    "rp": "Rheinland-Pfalz", "sl": "Saarland", "sn": "Sachsen", "st": "Sachsen-Anhalt",
    "sh": "Schleswig-Holstein", "th": "Thüringen",
}  # fmt: skip
STATES = {heading_key(s): s for s in [*labels.FEDERAL_STATES, "Ausland"]} | STATE_ABBREVIATIONS
# Form fields read from a file column of the same name.
FORM_FIELDS = (
    "salutation", "title", "first_name", "last_name", "organisation", "network", "state", "email",
    "role", "language", "accessibility_needs", "dietary_wishes", "organiser_notes",
)  # fmt: skip
# Columns the service reports as "activities".
FIELD_COLUMNS = {"activities": "workshops"}


class ParticipantImporter:
    """Register new people and update known ones (by e-mail address) from a table."""

    columns = PARTICIPANT_COLUMNS

    def __init__(self, event: Event, options: ImportOptions) -> None:
        self.event = event
        self.options = options
        self.roles = label_lookup(
            {r.value: lbl for r, lbl in labels.PARTICIPANT_ROLE_LABELS.items()}
        )
        self.networks: dict[str, Network] = {}
        for network in db.session.scalars(sa.select(Network)):
            self.networks.setdefault(network.name, network)
            self.networks.setdefault(network.name.casefold(), network)
        offered = service.enrollable_activities(event)
        self.activities_by_id = {a.id: a for a in offered}
        self.activities_by_title: dict[str, list[Activity]] = {}
        for activity in offered:
            key = " ".join(activity.title.split()).casefold()
            self.activities_by_title.setdefault(key, []).append(activity)
        self.seen: dict[str, int] = {}
        # Fields of the current row whose cells the checks before the form refused.
        self.reported: set[str] = set()

    def label(self, columns: ColumnMap, cells: list[str]) -> str:
        """Name the row's person: first and last name, and the address."""
        name = f"{columns.value(cells, 'first_name')} {columns.value(cells, 'last_name')}".strip()
        email = columns.value(cells, "email")
        return f"{name} <{email}>" if email else name

    def field_heading(self, columns: ColumnMap, name: str | None) -> str:
        """Return the file's heading of the column a form field or service field stands for."""
        name = FIELD_COLUMNS.get(name or "", name or "")
        if any(c.name == name for c in self.columns):
            return columns.heading(name)
        return ""

    # --- One row ---------------------------------------------------------------------------

    def import_row(self, columns: ColumnMap, cells: list[str], number: int) -> RowResult:
        """Check one row like the organiser's registration form, then register or update."""
        label = self.label(columns, cells)
        email = columns.value(cells, "email").strip().lower()
        errors: list[str] = []
        if email and email in self.seen:
            errors.append(
                cell_message(
                    columns.heading("email"),
                    _("Diese Adresse steht schon in Zeile %(row)s.", row=self.seen[email]),
                )
            )
        elif email:
            self.seen[email] = number
        known = service.find_by_email(self.event, email) if email else None
        if known is not None and known.status == RegistrationStatus.CANCELLED:
            known_active = None
        else:
            known_active = known
        data = self._form_data(columns, cells, known_active, errors)
        form = self._checked_form(data)
        network = self._network(columns, form.network.data or "", errors)
        if not data.get("state") and network is not None and network.state:
            form.state.data, form.state.errors = network.state, []
        for name, field in form._fields.items():
            # A cell refused by the checks above gets no second message from the form.
            for message in field.errors if name not in self.reported else []:
                errors.append(cell_message(self.field_heading(columns, name), message))
        chosen = self._choices(columns, cells, errors)
        if errors:
            raise RowRefused(errors)
        person = service.Participant(
            salutation=form.salutation.data or "",
            title=form.title.data or "",
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            organisation=form.organisation.data or "",
            network_id=network.id if network else None,
            state=form.state.data or "",
            email=form.email.data,
            role=ParticipantRole(form.role.data),
            language=form.language.data,
            accessibility_needs=form.accessibility_needs.data or "",
            dietary_wishes=form.dietary_wishes.data or "",
            photo_consent=bool(form.photo_consent.data),
            privacy_consent_version=(
                known_active.privacy_consent_version
                if known_active is not None
                else self.options.consent_version
            ),
        )
        notes = form.organiser_notes.data or ""
        if known_active is not None:
            return self._update(known_active, person, chosen, notes, columns, number, label)
        return self._register(person, chosen, notes, number, label)

    def _form_data(
        self, columns: ColumnMap, cells: list[str], known: Registration | None, errors: list[str]
    ) -> MultiDict[str, str]:
        """Return what the form would hold: the stored values, overlaid with the file's cells."""
        self.reported = set()
        data: dict[str, Any] = {
            "salutation": "", "title": "", "organisation": "", "network": "", "state": "",
            "role": ParticipantRole.PARTICIPANT.value, "language": "de",
            "accessibility_needs": "", "dietary_wishes": "", "organiser_notes": "",
            "photo_consent": False,
        }  # fmt: skip
        if known is not None:
            for name in FORM_FIELDS:
                data[name] = str(getattr(known, name) or "")
            data["network"] = known.network.name if known.network else ""
            data["photo_consent"] = known.photo_consent
        for name in FORM_FIELDS:
            if columns.has(name) and (
                columns.value(cells, name) or name not in {"role", "language"}
            ):
                data[name] = columns.value(cells, name)
        if columns.has("salutation"):
            raw = data["salutation"]
            data["salutation"] = SALUTATIONS.get(heading_key(raw), raw)
            if data["salutation"] not in {"", "Frau", "Herr"}:
                errors.append(
                    cell_message(
                        columns.heading("salutation"),
                        _(
                            "„%(value)s“ ist keine Anrede. Möglich sind „Frau“, „Herr“ oder ein "
                            "leeres Feld; ein Titel gehört in die Spalte „Titel“.",
                            value=raw,
                        ),
                    )
                )
                data["salutation"] = ""
                self.reported.add("salutation")
        if columns.has("role"):
            raw = data["role"]
            data["role"] = self.roles.get(heading_key(raw), raw)
            if heading_key(raw) not in self.roles:
                errors.append(
                    cell_message(
                        columns.heading("role"),
                        _(
                            "„%(value)s“ ist keine Rolle. Möglich sind: %(roles)s.",
                            value=raw,
                            roles=", ".join(
                                str(x) for x in labels.PARTICIPANT_ROLE_LABELS.values()
                            ),
                        ),
                    )
                )
                data["role"] = ParticipantRole.PARTICIPANT.value
                self.reported.add("role")
        if columns.has("state"):
            raw = data["state"]
            data["state"] = STATES.get(heading_key(raw), raw)
            if raw and data["state"] not in STATES.values():
                errors.append(
                    cell_message(
                        columns.heading("state"),
                        _(
                            "„%(value)s“ ist kein Bundesland. Bitte den Namen (z. B. "
                            "„Nordrhein-Westfalen“), das Kürzel (z. B. „NW“) oder „Ausland“ "
                            "eintragen.",
                            value=raw,
                        ),
                    )
                )
                data["state"] = ""
                self.reported.add("state")
        if columns.has("language"):
            raw = data["language"]
            data["language"] = LANGUAGES.get(heading_key(raw), "de")
            if heading_key(raw) not in LANGUAGES:
                errors.append(language_error(columns.heading("language"), raw))
                self.reported.add("language")
        if columns.has("photo_consent"):
            consent = yes_no(columns.value(cells, "photo_consent"))
            if consent is None:
                errors.append(yes_no_error(columns.heading("photo_consent")))
            data["photo_consent"] = bool(consent)
        form_data = MultiDict({k: v for k, v in data.items() if k != "photo_consent"})
        form_data["privacy_consent"] = "y"
        if data["photo_consent"]:
            form_data["photo_consent"] = "y"
        return form_data

    def _checked_form(self, data: MultiDict[str, str]) -> OrganiserRegistrationForm:
        """Run the organiser registration form's checks on the row's values."""
        form = OrganiserRegistrationForm(formdata=data, meta={"csrf": False})
        form.state.choices = [
            SelectChoice("", ""),
            *(SelectChoice(s, s) for s in labels.FEDERAL_STATES),
            SelectChoice("Ausland", "Ausland"),
        ]
        form.role.choices = [SelectChoice(r.value, r.value) for r in ParticipantRole]
        form.validate()
        return form

    def _network(self, columns: ColumnMap, name: str, errors: list[str]) -> Network | None:
        """Find the named network (exact, else ignoring case); "" means none."""
        name = " ".join(name.split())
        if not name:
            return None
        network = self.networks.get(name) or self.networks.get(name.casefold())
        if network is None:
            errors.append(
                cell_message(
                    columns.heading("network"),
                    _(
                        "„%(name)s“ steht nicht in der Liste der Netzwerke. Bitte prüfen Sie die "
                        "Schreibweise oder lassen Sie das Feld leer.",
                        name=name,
                    ),
                )
            )
        return network

    def _choices(self, columns: ColumnMap, cells: list[str], errors: list[str]) -> list[int] | None:
        """Read the chosen activities (titles or numbers); None when the file has no such column."""
        if not (columns.has("workshops") or columns.has("waitlist")):
            return None
        chosen: list[int] = []
        for name in ("workshops", "waitlist"):
            text = columns.value(cells, name).replace("\n", ";")
            for part in text.split(";"):
                found = self._activity(part)
                pieces = [part] if found is not None or "," not in part else part.split(",")
                for piece in pieces:
                    activity = found if found is not None else self._activity(piece)
                    if activity is None and piece.strip():
                        errors.append(self._unknown_activity(columns.heading(name), piece))
                    elif isinstance(activity, list):
                        errors.append(self._ambiguous_activity(columns.heading(name), activity))
                    elif activity is not None and activity.id not in chosen:
                        chosen.append(activity.id)
        return chosen

    def _activity(self, text: str) -> Activity | list[Activity] | None:
        """Return the offered activity named by title or number (a list when ambiguous)."""
        key = " ".join(text.split()).casefold()
        if not key:
            return None
        number = whole_number(key.lstrip("#"))
        if number is not None and number in self.activities_by_id:
            return self.activities_by_id[number]
        matches = self.activities_by_title.get(key, [])
        if len(matches) > 1:
            return matches
        return matches[0] if matches else None

    def _unknown_activity(self, heading: str, text: str) -> str:
        return cell_message(
            heading,
            _(
                "„%(title)s“ gibt es bei dieser Veranstaltung nicht zur Anmeldung (Titel oder "
                "Nummer, mehrere mit „;“ getrennt).",
                title=" ".join(text.split()),
            ),
        )

    def _ambiguous_activity(self, heading: str, found: list[Activity]) -> str:
        return cell_message(
            heading,
            _(
                "Den Titel „%(title)s“ tragen mehrere Angebote; bitte geben Sie statt des Titels "
                "die Nummer an: %(numbers)s.",
                title=found[0].title,
                numbers=", ".join(str(a.id) for a in found),
            ),
        )

    # --- Writing ---------------------------------------------------------------------------

    def _register(
        self,
        person: service.Participant,
        chosen: list[int] | None,
        notes: str,
        number: int,
        label: str,
    ) -> RowResult:
        result = service.register(
            self.event, person, chosen or [], ignore_window=True, notify=self.options.send_mail
        )
        result.registration.organiser_notes = notes
        return RowResult(number, label, Outcome.NEW, notes=self._places(result.registration))

    def _update(
        self,
        registration: Registration,
        person: service.Participant,
        chosen: list[int] | None,
        notes: str,
        columns: ColumnMap,
        number: int,
        label: str,
    ) -> RowResult:
        changed = set(service.update_details(registration, person))
        if columns.has("organiser_notes") and registration.organiser_notes != notes:
            registration.organiser_notes = notes
            changed.add("organiser_notes")
        held = {e.activity_id for e in registration.enrolments if e.status in service.ACTIVE}
        if chosen is not None and set(chosen) != held:
            service.change_choices(registration, chosen, notify=self.options.send_mail)
            changed.add("workshops")
        if not changed:
            return RowResult(number, label, Outcome.UNCHANGED)
        headings = [
            columns.heading(name)
            for name in ("salutation", "title", "first_name", "last_name", "organisation",
                         "network", "state", "email", "role", "language", "accessibility_needs",
                         "dietary_wishes", "photo_consent", "organiser_notes", "workshops")
            if name in changed or (name == "network" and "network_id" in changed)
        ]  # fmt: skip
        notes_shown = [_("geändert: %(columns)s", columns=", ".join(headings))]
        if "workshops" in changed:
            notes_shown += self._places(registration, day=False)
        return RowResult(number, label, Outcome.UPDATE, notes=notes_shown)

    def _places(self, registration: Registration, day: bool = True) -> list[str]:
        """Describe the row's place for the day and in each chosen activity."""
        notes: list[str] = []
        if day and registration.status == RegistrationStatus.WAITLISTED:
            notes.append(
                _(
                    "Veranstaltung ausgebucht: Warteliste für den Tag, Platz %(position)s",
                    position=event_waitlist_position(registration),
                )
            )
        active = [e for e in registration.enrolments if e.status in service.ACTIVE]
        for enrolment in sorted(active, key=lambda e: (e.activity.starts_at, e.activity_id)):
            if enrolment.status == EnrolmentStatus.CONFIRMED:
                notes.append(_("„%(title)s“: Platz", title=enrolment.activity.title))
            else:
                notes.append(
                    _(
                        "„%(title)s“: Warteliste, Platz %(position)s",
                        title=enrolment.activity.title,
                        position=waitlist_position(enrolment),
                    )
                )
        return notes
