"""User-facing names of the model's choices, in the visitor's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from eventapp.models import (
    EnrolmentStatus,
    ExportKind,
    OrganiserRole,
    ParticipantRole,
    RegistrationStatus,
)

PARTICIPANT_ROLE_LABELS = {
    ParticipantRole.PARTICIPANT: _l("Teilnehmer/in"),
    ParticipantRole.SPEAKER: _l("Referent/in"),
    ParticipantRole.PRESS: _l("Presse"),
    ParticipantRole.STAFF: _l("Team"),
    ParticipantRole.VIP: _l("Ehrengast"),
}

ORGANISER_ROLE_LABELS = {
    OrganiserRole.ADMIN: _l("Administration"),
    OrganiserRole.STAFF: _l("Organisationsteam"),
    OrganiserRole.CHECKIN: _l("Einlass"),
}

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: _l("bestätigt"),
    RegistrationStatus.WAITLISTED: _l("Warteliste"),
    RegistrationStatus.CANCELLED: _l("storniert"),
}

# A place in one activity stands as a registration for the day does, with the same words.
ENROLMENT_STATUS_LABELS = {
    EnrolmentStatus(status.value): label for status, label in REGISTRATION_STATUS_LABELS.items()
}

# What changed in an activity, as listed in the change-notice log.
CHANGE_LABELS = {
    "time": _l("Zeit"),
    "room": _l("Raum"),
    "cancelled": _l("Absage"),
    "title": _l("Titel"),
}

# What a print job makes.
PRINT_JOB_LABELS = {
    "badges": _l("Namensschilder"),
    "programme": _l("Programmheft"),
    "sign_in_sheets": _l("Teilnehmerlisten"),
    "door_signs": _l("Türschilder"),
}

EXPORT_KIND_LABELS = {
    ExportKind.REGISTRATIONS_CSV: _l("Anmeldeliste (CSV)"),
    ExportKind.REGISTRATIONS_XLSX: _l("Anmeldeliste (Excel)"),
    ExportKind.BADGES: _l("Namensschilder (PDF)"),
    ExportKind.PROGRAMME: _l("Programmheft (PDF)"),
    ExportKind.SIGN_IN_SHEETS: _l("Teilnehmerlisten zum Unterschreiben (PDF)"),
    ExportKind.DOOR_SIGNS: _l("Türschilder (PDF)"),
    ExportKind.SINGLE_BADGE: _l("Einzelnes Namensschild am Einlass (PDF)"),
    ExportKind.ATTENDANCE_CSV: _l("Anwesenheit eines Workshops (CSV)"),
    ExportKind.ATTENDANCE_XLSX: _l("Anwesenheit eines Workshops (Excel)"),
    ExportKind.DASHBOARD_CSV: _l("Zahlen der Auswertung (CSV)"),
}

# The 16 federal states; names are proper nouns and stay German in both languages.
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

# What was done to an organiser account, as the account log lists it.
ACCOUNT_ACTION_LABELS = {
    "invited": _l("eingeladen"),
    "invitation_resent": _l("Einladung erneut gesendet"),
    "invitation_revoked": _l("Einladung zurückgezogen, Konto gelöscht"),
    "invitation_accepted": _l("Einladung angenommen, Passwort gesetzt"),
    "password_reset": _l("Passwort über Link neu gesetzt"),
    "role_changed": _l("Rolle geändert"),
    "deactivated": _l("deaktiviert"),
    "reactivated": _l("wieder aktiviert"),
}
