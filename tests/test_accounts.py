"""Organiser accounts in the web pages: invitations, password resets, roles, deactivation."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import (
    AccountLog,
    AccountToken,
    AccountTokenPurpose,
    MailStatus,
    Organiser,
    OrganiserRole,
    OutboxMail,
)
from eventapp.services import DomainError
from eventapp.services.accounts import team
from eventapp.services.mail import outbox
from tests.conftest import login
from tests.factories import make_organiser
from tests.helpers.mailbox import delivered, password_path, plain_text
from tests.helpers.statements import count_statements
from tests.smtp_server import SmtpServer, text_of

FORGOT = "/organisation/passwort-vergessen"


def organiser(app: Flask, email: str) -> Organiser:
    """Return an account by address, loaded afresh."""
    with app.app_context():
        found = db.session.scalar(sa.select(Organiser).where(Organiser.email == email))
        assert found is not None
        db.session.expunge(found)
        return found


def log_actions(app: Flask) -> list[tuple[str, str]]:
    """Return the account log as (action, account address), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(AccountLog.action, AccountLog.account_email).order_by(AccountLog.id)
        )
        return [(action, email) for action, email in rows]


def test_invitation_by_mail_sets_password_once_then_logs_in(
    app: Flask, admin_client: FlaskClient, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config())
    response = admin_client.post(
        "/organisation/konten/einladen",
        data={"email": " Neu@Example.org ", "name": "Nora Neu", "role": "staff"},
    )
    assert response.status_code == 302
    listing = admin_client.get("/organisation/konten/").get_data(as_text=True)
    assert "neu@example.org" in listing and "eingeladen, Link gilt bis" in listing
    (mail,) = smtp_server.wait_for(1)
    assert mail["To"] == "neu@example.org"
    text = text_of(mail)
    assert "Rolle: Organisationsteam" in text
    path = password_path(text)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 random bits
    with app.app_context():
        # Neither the outbox nor the token table holds the working link in clear.
        stored = db.session.scalar(sa.select(OutboxMail))
        assert stored.status == MailStatus.SENT
        assert stored.message == b"" and stored.render_data is None
        hashes = db.session.scalars(sa.select(AccountToken.token_hash)).all()
        assert token not in hashes and len(hashes) == 1

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Konto einrichten" in page.get_data(as_text=True)
    # The same password rules as the command line: at least 10 characters, typed twice alike.
    short = newcomer.post(path, data={"password": "kurz", "password_again": "kurz"})
    assert short.status_code == 400
    assert "mindestens 10 Zeichen" in short.get_data(as_text=True)
    differ = newcomer.post(path, data={"password": "ein-langes-wort", "password_again": "anders"})
    assert differ.status_code == 400
    assert "stimmen nicht überein" in differ.get_data(as_text=True)
    done = newcomer.post(
        path, data={"password": "ein langes Passwort", "password_again": "ein langes Passwort"}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/organisation/"
    assert newcomer.get("/organisation/").status_code == 200  # logged in

    # Single use: the link now explains itself instead of working again.
    again = app.test_client().get(path)
    assert again.status_code == 410
    assert "schon ein Passwort festgelegt" in again.get_data(as_text=True)
    reuse = app.test_client().post(path, data={"password": "x" * 12, "password_again": "x" * 12})
    assert reuse.status_code == 410
    assert login(app.test_client(), "neu@example.org", "ein langes Passwort").status_code == 200
    assert log_actions(app) == [
        ("invited", "neu@example.org"),
        ("invitation_accepted", "neu@example.org"),
    ]
    listing = admin_client.get("/organisation/konten/").get_data(as_text=True)
    assert "eingeladen, Link gilt" not in listing


def test_invitation_expires_after_48_hours_and_can_be_sent_again(
    app: Flask, admin_client: FlaskClient
) -> None:
    admin_client.post(
        "/organisation/konten/einladen",
        data={"email": "spaet@example.org", "name": "Spät", "role": "checkin"},
    )
    first = password_path(plain_text(delivered(app)[-1]))
    with app.app_context():
        token = db.session.scalar(sa.select(AccountToken))
        assert token.expires_at - token.created_at == timedelta(hours=48)
        # 47 hours later it still works …
        token.created_at -= timedelta(hours=47)
        token.expires_at -= timedelta(hours=47)
        db.session.commit()
    assert app.test_client().get(first).status_code == 200
    with app.app_context():
        token = db.session.scalar(sa.select(AccountToken))
        token.created_at -= timedelta(hours=2)
        token.expires_at -= timedelta(hours=2)
        db.session.commit()
    # … 49 hours later it does not.
    expired = app.test_client().get(first)
    assert expired.status_code == 410
    assert "abgelaufen" in expired.get_data(as_text=True)
    account = organiser(app, "spaet@example.org")
    assert "Einladung abgelaufen" in admin_client.get("/organisation/konten/").get_data(
        as_text=True
    )
    resent = admin_client.post(f"/organisation/konten/{account.id}/einladung-erneut")
    assert resent.status_code == 302
    second = password_path(plain_text(delivered(app)[-1]))
    assert second != first
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200


def test_a_newer_invitation_replaces_the_older_and_revoking_deletes_the_account(
    app: Flask, admin_client: FlaskClient
) -> None:
    admin_client.post(
        "/organisation/konten/einladen",
        data={"email": "zweimal@example.org", "name": "Zweimal", "role": "staff"},
    )
    first = password_path(plain_text(delivered(app)[-1]))
    account = organiser(app, "zweimal@example.org")
    admin_client.post(f"/organisation/konten/{account.id}/einladung-erneut")
    replaced = app.test_client().get(first)
    assert replaced.status_code == 410
    assert "durch einen neueren ersetzt" in replaced.get_data(as_text=True)
    second = password_path(plain_text(delivered(app)[-1]))
    response = admin_client.post(
        f"/organisation/konten/{account.id}/einladung-zurueckziehen", follow_redirects=True
    )
    assert "Die Einladung an zweimal@example.org ist zurückgezogen." in response.get_data(
        as_text=True
    )
    assert app.test_client().get(second).status_code == 404
    with app.app_context():
        assert db.session.get(Organiser, account.id) is None
    assert log_actions(app)[-1] == ("invitation_revoked", "zweimal@example.org")
    # An address that already has an account is not invited twice.
    double = admin_client.post(
        "/organisation/konten/einladen",
        data={"email": "ADMIN@example.org", "name": "Doppelt", "role": "staff"},
    )
    assert double.status_code == 400
    assert "gibt es schon ein Konto" in double.get_data(as_text=True)


def forgot(client: FlaskClient, email: str, address: str = "10.0.0.1") -> Any:
    """Ask for a new-password link from a client address."""
    return client.post(FORGOT, data={"email": email}, environ_base={"REMOTE_ADDR": address})


def test_reset_answers_alike_for_known_and_unknown_addresses(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_organiser("team@example.org", "altes-passwort-1")
        db.session.commit()
    known = forgot(client, "Team@Example.org")
    unknown = forgot(client, "niemand@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known.get_data() == unknown.get_data()
    page = client.get(known.headers["Location"]).get_data(as_text=True)
    assert "Wenn es zu dieser Adresse ein aktives Konto gibt" in page
    (mail,) = delivered(app)  # only the known address got one
    assert mail["To"] == "team@example.org"
    assert mail["Subject"] == "Neues Passwort für den Organisationsbereich"
    with app.app_context():
        token = db.session.scalar(sa.select(AccountToken))
        assert token.purpose == AccountTokenPurpose.RESET
        assert token.expires_at - token.created_at == timedelta(minutes=60)


def test_reset_link_works_once_ends_other_sessions_and_voids_other_links(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_organiser("team@example.org", "altes-passwort-1")
        db.session.commit()
    elsewhere = app.test_client()
    assert login(elsewhere, "team@example.org", "altes-passwort-1").status_code == 200
    forgot(client, "team@example.org")
    older = password_path(plain_text(delivered(app)[-1]))
    forgot(client, "team@example.org")
    newer = password_path(plain_text(delivered(app)[-1]))
    assert client.get(older).status_code == 410  # only the newest link works
    page = client.get(newer)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    done = client.post(
        newer, data={"password": "neues-passwort-1", "password_again": "neues-passwort-1"}
    )
    assert done.status_code == 302
    assert client.get("/organisation/").status_code == 200
    assert elsewhere.get("/organisation/").status_code == 302  # the other session ended
    assert client.get(newer).status_code == 410
    assert login(app.test_client(), "team@example.org", "altes-passwort-1").status_code == 401
    assert login(app.test_client(), "team@example.org", "neues-passwort-1").status_code == 200
    # Expiry: a link older than PASSWORD_RESET_MINUTES says so.
    forgot(client, "team@example.org")
    late = password_path(plain_text(delivered(app)[-1]))
    with app.app_context():
        db.session.execute(
            sa.update(AccountToken)
            .where(AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None))
            .values(expires_at=AccountToken.created_at)
        )
        db.session.commit()
    response = client.get(late)
    assert response.status_code == 410 and "abgelaufen" in response.get_data(as_text=True)


def test_no_reset_mail_for_a_deactivated_account(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_organiser("weg@example.org", "altes-passwort-1").active = False
        db.session.commit()
    assert forgot(client, "weg@example.org").status_code == 302
    assert delivered(app) == []


LIMITED = {"RATELIMIT_ENABLED": True, "PASSWORD_RESET_RATE_LIMIT": "2 per hour"}


@pytest.mark.parametrize("app_config", [LIMITED])
def test_reset_requests_are_limited_per_address_and_per_client(
    app: Flask, client: FlaskClient
) -> None:
    # Per e-mail address, from any client address.
    assert forgot(client, "ziel@example.org", "10.0.0.1").status_code == 302
    assert forgot(client, "Ziel@example.org", "10.0.0.2").status_code == 302
    blocked = forgot(client, "ziel@example.org", "10.0.0.3")
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "3600"
    text = blocked.get_data(as_text=True)
    assert "Zu viele Anfragen" in text and "60 Minuten" in text
    # Per client address, across e-mail addresses.
    assert forgot(client, "a@example.org", "10.0.1.1").status_code == 302
    assert forgot(client, "b@example.org", "10.0.1.1").status_code == 302
    assert forgot(client, "c@example.org", "10.0.1.1").status_code == 429
    assert forgot(client, "c@example.org", "10.0.1.2").status_code == 302


def test_deactivation_ends_an_open_session_and_reactivation_restores_login(
    app: Flask, admin_client: FlaskClient
) -> None:
    with app.app_context():
        colleague = make_organiser("kollege@example.org", "kollegen-passwort")
        db.session.commit()
        colleague_id = colleague.id
    other = app.test_client()
    assert login(other, "kollege@example.org", "kollegen-passwort").status_code == 200
    assert other.get("/organisation/").status_code == 200
    confirm = admin_client.get(f"/organisation/konten/{colleague_id}/deaktivieren")
    assert "Konto von kollege deaktivieren?" in confirm.get_data(as_text=True)
    done = admin_client.post(
        f"/organisation/konten/{colleague_id}/deaktivieren", follow_redirects=True
    )
    assert "Das Konto kollege@example.org ist deaktiviert." in done.get_data(as_text=True)
    assert other.get("/organisation/").status_code == 302  # the open session ended
    assert login(app.test_client(), "kollege@example.org", "kollegen-passwort").status_code == 401
    admin_client.post(f"/organisation/konten/{colleague_id}/reaktivieren")
    assert login(app.test_client(), "kollege@example.org", "kollegen-passwort").status_code == 200
    assert [a for a, _ in log_actions(app)] == ["deactivated", "reactivated"]


def test_role_change_applies_at_the_next_click(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        colleague = make_organiser("kollege@example.org", "kollegen-passwort")
        db.session.commit()
        colleague_id = colleague.id
    other = app.test_client()
    login(other, "kollege@example.org", "kollegen-passwort")
    assert other.get("/organisation/").status_code == 200
    assert other.get("/organisation/konten/").status_code == 403
    response = admin_client.post(
        f"/organisation/konten/{colleague_id}/rolle", data={"role": "checkin"}
    )
    assert response.status_code == 302
    assert other.get("/organisation/").status_code == 403
    assert other.get("/organisation/einlass/").status_code == 200
    admin_client.post(f"/organisation/konten/{colleague_id}/rolle", data={"role": "admin"})
    assert other.get("/organisation/konten/").status_code == 200
    assert log_actions(app)[0] == ("role_changed", "kollege@example.org")


def test_admin_cannot_demote_or_deactivate_themselves_or_the_last_admin(
    app: Flask, admin_client: FlaskClient
) -> None:
    me = organiser(app, "admin@example.org")
    demote = admin_client.post(
        f"/organisation/konten/{me.id}/rolle", data={"role": "staff"}, follow_redirects=True
    )
    assert "die Administration nicht entziehen" in demote.get_data(as_text=True)
    off = admin_client.post(f"/organisation/konten/{me.id}/deaktivieren", follow_redirects=True)
    assert "Sie können Ihr eigenes Konto nicht deaktivieren." in off.get_data(as_text=True)
    assert organiser(app, "admin@example.org").role == OrganiserRole.ADMIN
    assert organiser(app, "admin@example.org").active
    with app.app_context():
        # Whoever asks, the last active admin stays.
        staff = make_organiser("staff@example.org", "staff-password-1")
        admin = db.session.get(Organiser, me.id)
        with pytest.raises(DomainError, match="letzte aktive Administrationskonto"):
            team.deactivate(staff, admin, "127.0.0.1")
        with pytest.raises(DomainError, match="letzte aktive Administrationskonto"):
            team.change_role(staff, admin, OrganiserRole.STAFF, "127.0.0.1")
        # With a second admin, one may go.
        second = make_organiser("zweite@example.org", "zweite-password-1", role="admin")
        team.change_role(second, admin, OrganiserRole.STAFF, "127.0.0.1")
        db.session.rollback()


def test_account_pages_are_for_admins_only(app: Flask, staff_client: FlaskClient) -> None:
    assert staff_client.get("/organisation/konten/").status_code == 403
    assert staff_client.get("/organisation/konten/einladen").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/organisation/konten/").status_code == 302


def form_token(client: FlaskClient, path: str) -> str:
    """Return the form token a page carries."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(True))
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_account_forms_need_the_form_token(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        me = make_organiser("admin@example.org", "admin-password-1", role="admin")
        db.session.commit()
        my_id = me.id
    token = form_token(client, "/organisation/anmelden")
    credentials = {"email": "admin@example.org", "password": "admin-password-1"}
    assert (
        client.post("/organisation/anmelden", data=credentials | {"csrf_token": token}).status_code
        == 302
    )
    refused = [
        client.post(
            "/organisation/konten/einladen",
            data={"email": "x@example.org", "name": "X", "role": "admin"},
        ),
        client.post(f"/organisation/konten/{my_id}/rolle", data={"role": "staff"}),
        client.post(f"/organisation/konten/{my_id}/deaktivieren"),
        app.test_client().post(FORGOT, data={"email": "admin@example.org"}),
    ]
    assert [r.status_code for r in refused] == [400, 400, 400, 400]
    assert "Formular abgelaufen" in refused[0].get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organiser.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(AccountToken.id))) == 0
    # With the page's token the invitation goes out.
    token = form_token(client, "/organisation/konten/einladen")
    sent = client.post(
        "/organisation/konten/einladen",
        data={"email": "x@example.org", "name": "X", "role": "staff", "csrf_token": token},
    )
    assert sent.status_code == 302


HOSTILE = [
    "a" * 300 + "@example.org",
    "x@example.org\r\nBcc: evil@example.org",
    "\x00@example.org",
    "<script>@example.org",
    "",
]


def test_hostile_input_gets_readable_answers(app: Flask, admin_client: FlaskClient) -> None:
    public = app.test_client()
    for value in HOSTILE:
        assert public.post(FORGOT, data={"email": value}).status_code == 400, value
        invite = admin_client.post(
            "/organisation/konten/einladen", data={"email": value, "name": value, "role": "x"}
        )
        assert invite.status_code == 400, value
    invite = admin_client.post(
        "/organisation/konten/einladen",
        data={"email": "ok@example.org", "name": "Bell\x07", "role": "superuser"},
    )
    text = invite.get_data(as_text=True)
    assert invite.status_code == 400 and "Steuerzeichen" in text
    assert 'value="ok@example.org"' in text  # what was typed stays
    for path in [
        "/organisation/passwort/" + "A" * 5000,
        "/organisation/passwort/%E2%80%AE%F0%9F%98%80",
        "/organisation/passwort/..%2F..%2Fetc",
    ]:
        assert public.get(path).status_code == 404, path
        assert public.post(path, data={"password": "x" * 20}).status_code == 404, path
    assert admin_client.get("/organisation/konten/99999999999").status_code == 404
    assert (
        admin_client.post("/organisation/konten/12345/rolle", data={"role": "x"}).status_code == 404
    )
    # A huge password is refused before hashing.
    with app.app_context():
        make_organiser("team@example.org", "altes-passwort-1")
        db.session.commit()
    forgot(public, "team@example.org")
    path = password_path(plain_text(delivered(app)[-1]))
    huge = public.post(path, data={"password": "p" * 600, "password_again": "p" * 600})
    assert huge.status_code == 400 and "höchstens 500 Zeichen" in huge.get_data(as_text=True)
    assert public.get(path).status_code == 200  # the link still works after a refused try


def test_account_list_shows_states_in_few_queries(app: Flask, admin_client: FlaskClient) -> None:
    with app.app_context():
        admin = db.session.scalar(sa.select(Organiser))
        for number in range(30):
            team.invite(
                admin, f"p{number}@example.org", f"Person {number}", OrganiserRole.STAFF, ""
            )
        make_organiser("weg@example.org", "weg-password-1").active = False
        db.session.commit()
    with count_statements(app) as statements:
        page = admin_client.get("/organisation/konten/").get_data(as_text=True)
    assert page.count("eingeladen, Link gilt bis") == 30
    assert "<strong>deaktiviert</strong>" in page
    assert len(statements) <= 6, statements


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False}])
def test_mail_of_a_revoked_invitation_is_not_rendered(app: Flask) -> None:
    with app.app_context():
        admin = make_organiser("admin@example.org", "admin-password-1", role="admin")
        invited = team.invite(admin, "neu@example.org", "Neu", OrganiserRole.STAFF, "")
        db.session.commit()
        queued = db.session.scalar(sa.select(OutboxMail))
        # Only the sealed token waits in the outbox.
        assert set(queued.render_data) == {
            "organiser_id",
            "sealed_token",
            "invited_by",
            "expires_at",
        }
        team.revoke_invitation(admin, invited, "")
        db.session.commit()
        assert db.session.scalar(sa.select(OutboxMail)) is None  # the waiting mail is dropped
        assert outbox.deliver(app.config) == {"sent": 0, "retry": 0, "failed": 0}
    assert not list(Path(app.config["MAIL_FILE_DIR"]).glob("*.eml"))


def test_the_command_line_still_sets_a_password_and_voids_open_links(
    app: Flask, admin_client: FlaskClient
) -> None:
    admin_client.post(
        "/organisation/konten/einladen",
        data={"email": "cli@example.org", "name": "Cli", "role": "staff"},
    )
    path = password_path(plain_text(delivered(app)[-1]))
    result = app.test_cli_runner().invoke(
        args=["create-organiser", "cli@example.org", "--password-stdin"],
        input="von-der-konsole-1\n",
    )
    assert result.exit_code == 0, result.output
    assert app.test_client().get(path).status_code == 410
    assert login(app.test_client(), "cli@example.org", "von-der-konsole-1").status_code == 200
