"""The real worker (`eventapp worker`, a separate process) beside the app, on each queue kind.

Each test starts the worker as `make run` and production do, drives the app the way organisers
and participants do, and reads the outcome where they would: mail files, an SMTP server, the
print job page.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import (
    Enrolment,
    EnrolmentStatus,
    MailStatus,
    OutboxMail,
    ParticipantRole,
    PrintJob,
    PrintJobStatus,
    Registration,
    RegistrationStatus,
)
from eventapp.services.mail.outbox import queue_mail
from eventapp.timezones import utcnow
from tests.factories import (
    make_activity,
    make_event,
    make_organiser,
    make_registration,
    make_room,
)
from tests.helpers.mailbox import delivered
from tests.helpers.participants import form_data
from tests.helpers.system import system_required
from tests.smtp_server import SmtpServer, free_port

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("EVENTAPP_TEST_REDIS_URL", "")
REQUIRED = system_required()  # CI: every queue kind must run


def queue_kinds() -> list[Any]:
    """The queues to test: the SQLite file always, Redis when a test Redis is configured."""
    redis = pytest.param(
        "redis",
        marks=pytest.mark.skipif(
            not REDIS_URL and not REQUIRED, reason="EVENTAPP_TEST_REDIS_URL is not set"
        ),
    )
    postgres = pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get("EVENTAPP_TEST_DATABASE_URL"),
            reason="the PostgreSQL queue runs with the PostgreSQL test database",
        ),
    )
    return ["sqlite", redis, postgres]


@pytest.fixture(params=queue_kinds())
def queue_url(request: pytest.FixtureRequest) -> str:
    """Return TASK_QUEUE_URL for the queue kind (a Redis database of its own, emptied)."""
    if request.param == "sqlite":
        return ""
    if request.param == "postgresql":  # the queue in the app's own database (huey_* tables)
        url = sa.make_url(os.environ["EVENTAPP_TEST_DATABASE_URL"])
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            for table in ("huey_kv", "huey_schedule", "huey_task", "huey_counter"):
                connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
        return url.render_as_string(hide_password=False)
    if not REDIS_URL:
        pytest.fail("EVENTAPP_TEST_REDIS_URL must be set in CI")
    import redis

    url = redis_database()
    redis.Redis.from_url(url).flushdb()
    return url


def redis_database() -> str:
    """Return the test Redis URL: the database it names, else number 9 (emptied by the tests)."""
    base = REDIS_URL.rstrip("/")
    if base.count("/") >= 3:  # redis://host:port/N: a database given to this test run
        return base
    return f"{base}/9"


@pytest.fixture
def app_config(queue_url: str) -> dict[str, Any]:
    """Queue tasks for a real worker (nothing runs in the test's process)."""
    return {"TASK_QUEUE_IMMEDIATE": False, "TASK_QUEUE_URL": queue_url}


class Worker:
    """`eventapp worker` in its own process group, sharing the test app's database and queue."""

    def __init__(self, app: Flask, log: Path, **settings: Any) -> None:
        self.env = dict(os.environ)
        self.env.update(
            {
                "EVENTAPP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "EVENTAPP_INSTANCE_PATH": app.instance_path,
                "EVENTAPP_SECRET_KEY": app.config["SECRET_KEY"],
                "EVENTAPP_TASK_QUEUE_URL": app.config["TASK_QUEUE_URL"],
                "EVENTAPP_MAIL_BACKEND": app.config["MAIL_BACKEND"],
                "EVENTAPP_MAIL_FILE_DIR": app.config["MAIL_FILE_DIR"],
                "EVENTAPP_MAIL_SERVER": str(app.config["MAIL_SERVER"]),
                "EVENTAPP_MAIL_PORT": str(app.config["MAIL_PORT"]),
                "EVENTAPP_PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
            }
        )
        self.env.update({f"EVENTAPP_{key}": str(value) for key, value in settings.items()})
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from eventapp.cli import main; main()", "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
            )

    def kill_tree(self) -> None:
        """SIGKILL the worker and every process it started."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def start_worker(app: Flask, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start workers for the test app; all are killed at the end."""
    started: list[Worker] = []

    def start(log: str = "worker.log", **settings: Any) -> Worker:
        worker = Worker(app, tmp_path / log, **settings)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(check: Callable[[], Any], timeout: float, what: str, log: Path | None = None) -> Any:
    """Poll check() until it returns something true; fail with what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"not within {timeout:.0f} s: {what}\n{tail}")


def enrolled_workshop() -> dict[str, Any]:
    """A published workshop with two people holding a seat."""
    event = make_event()
    room = make_room(event, "Raum 1", 20)
    workshop = make_activity(event, "Fachkräfte sichern", "10:00", "11:00", room)
    for first, last in (("Anna", "Albers"), ("Ben", "Bauer")):
        person = make_registration(event, first, last)
        db.session.add(
            Enrolment(registration=person, activity=workshop, status=EnrolmentStatus.CONFIRMED)
        )
    db.session.commit()
    return {"event": event.id, "workshop": workshop.id}


def submit_form(client: FlaskClient, url: str, action: str = "", **changes: str) -> Any:
    """Load a form page, change some fields as a person would, and send the form."""
    page = client.get(url)
    assert page.status_code == 200
    target = action or url
    form = next(
        f
        for f in lxml.html.fromstring(page.text).forms
        if f.method.upper() == "POST" and (f.action or url) in {target, target.rstrip("/")}
    )
    values = dict(form.form_values())
    values.update(changes)
    return client.post(target, data=values)


def test_moved_workshop_notice_mails_leave_within_30_seconds(
    app: Flask, staff_client: FlaskClient, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    app.config["CHANGE_NOTICE_DELAY"] = 5
    with app.app_context():
        ids = enrolled_workshop()
    worker = start_worker(CHANGE_NOTICE_DELAY=5)
    url = f"/organisation/veranstaltungen/{ids['event']}/programm/{ids['workshop']}"
    edited = time.monotonic()
    response = submit_form(staff_client, url, starts="11:00", ends="12:00")
    assert response.status_code == 302, response.text[:2000]
    notices = wait_until(
        lambda: [m for m in delivered(app) if "Programmänderung" in m["Subject"]] or None,
        timeout=30,
        what="two change notices as mail files",
        log=worker.log,
    )
    wait_until(lambda: len(delivered(app)) >= 2, 10, "the second notice", worker.log)
    assert time.monotonic() - edited >= 5  # not before the quiet period
    assert {m["To"] for m in delivered(app)} == {
        "anna.albers@example.org",
        "ben.bauer@example.org",
    }
    assert notices
    page = staff_client.get(f"/organisation/veranstaltungen/{ids['event']}/aenderungsmitteilungen")
    assert "5 Sekunden" in page.text
    # The worker gave the web requests precedence (WORKER_NICE, 10 by default).
    assert worker.process is not None
    assert niceness(worker.process.pid) >= 10


def niceness(pid: int) -> int:
    """Return a process's nice value (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


@pytest.mark.parametrize(("started", "setting", "expected"), [(0, 10, 10), (5, 3, 5), (0, 0, 0)])
def test_worker_lowers_its_priority_but_never_raises_it(
    started: int, setting: int, expected: int
) -> None:
    code = f"from eventapp.cli.worker import lower_priority; print(lower_priority({setting}))"
    run = subprocess.run(
        ["nice", "-n", str(started), sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    base = os.nice(0)  # the suite may itself run under nice
    assert int(run.stdout) == max(min(base + started, 19), min(expected, 19))


def test_link_sent_on_a_second_registration_is_delivered_by_the_worker(
    app: Flask, client: FlaskClient, start_worker: Callable[..., Worker]
) -> None:
    with app.app_context():
        make_event()
        db.session.commit()
    worker = start_worker()
    assert client.post("/testtag/anmeldung", data=form_data(network="")).status_code == 302
    assert client.post("/testtag/anmeldung", data=form_data(network="")).status_code == 302
    subjects = wait_until(
        lambda: [m["Subject"] for m in delivered(app)] if len(delivered(app)) >= 2 else None,
        timeout=30,
        what="the confirmation and the link sent again",
        log=worker.log,
    )
    assert any("Sie sind bereits angemeldet" in subject for subject in subjects)
    log = worker.log.read_text()
    assert "Huey consumer started" in log  # the worker says that it runs …
    assert "Executing" not in log and "executed in" not in log  # … not every task it ran


def test_smtp_down_then_back_every_mail_delivered_exactly_once(
    app: Flask, start_worker: Callable[..., Worker]
) -> None:
    port = free_port()
    app.config.update({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port})
    worker = start_worker(MAIL_RETRY_DELAY=1, MAIL_MAX_ATTEMPTS=50)
    with app.app_context():
        for n in range(200):
            queue_mail(f"person{n}@example.org", f"Nachricht {n}", f"Text {n}", kind="test")
        db.session.commit()

        def tried_all() -> bool:
            db.session.expire_all()
            untried = db.session.scalar(
                sa.select(sa.func.count(OutboxMail.id)).where(OutboxMail.attempts == 0)
            )
            db.session.rollback()
            return untried == 0

        wait_until(tried_all, 60, "a first (failed) attempt at every mail", worker.log)
        server = SmtpServer(port)
        server.start()
        try:

            def all_sent() -> bool:
                db.session.expire_all()
                count = db.session.scalar(
                    sa.select(sa.func.count(OutboxMail.id)).where(
                        OutboxMail.status == MailStatus.SENT
                    )
                )
                db.session.rollback()
                return count == 200

            wait_until(all_sent, 90, "all 200 mails sent", worker.log)
            time.sleep(3)  # a duplicate would arrive now
            recipients = [envelope[1][0] for envelope in server.inbox.envelopes]
        finally:
            server.stop()
    assert len(recipients) == 200
    assert sorted(recipients) == sorted(f"person{n}@example.org" for n in range(200))


def many_people(event_id: int, count: int) -> None:
    """Register count people for the event at once (no seat rules, no mails)."""
    db.session.execute(
        sa.insert(Registration),
        [
            {
                "event_id": event_id,
                "first_name": f"Vorname{n}",
                "last_name": f"Nachname{n:04d}",
                "organisation": "Agentur für Arbeit",
                "email": f"p{n}@example.org",
                "token_hash": f"m{n:063d}",
                "calendar_token_hash": f"c{n:063d}",
                "checkin_code": f"CODE{n:06d}",
                "privacy_consent_version": "2026-01",
                "privacy_consent_at": utcnow(),
                "status": RegistrationStatus.CONFIRMED,
                "role": ParticipantRole.PARTICIPANT,
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def test_badge_job_survives_a_killed_worker(
    app: Flask, staff_client: FlaskClient, start_worker: Callable[..., Worker]
) -> None:
    on_postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    queue_kind = app.config["TASK_QUEUE_URL"].split(":", 1)[0] or "sqlite"
    if queue_kind != ("redis" if on_postgresql else "sqlite"):  # one kill per database run
        pytest.skip("killed once per run: SQLite with its file queue, PostgreSQL with Redis")
    with app.app_context():
        event = make_event()
        many_people(event.id, 1000)
        event_id = event.id
    worker = start_worker()
    response = submit_form(
        staff_client,
        f"/organisation/veranstaltungen/{event_id}/druck/",
        action=f"/organisation/veranstaltungen/{event_id}/druck/namensschilder",
        layout="a4-10",
    )
    assert response.status_code == 302
    job_url = response.headers["Location"]

    def progress() -> tuple[str, int] | None:
        with app.app_context():
            job = db.session.scalar(sa.select(PrintJob))
            state = (job.status, job.done) if job else None
            db.session.rollback()
        return state if state and state[0] == PrintJobStatus.RUNNING else None

    wait_until(progress, 180, "the badge job rendering", worker.log)
    time.sleep(1)  # well inside the rendering
    worker.kill_tree()
    with app.app_context():
        assert db.session.scalar(sa.select(PrintJob.status)) == PrintJobStatus.RUNNING
    restarted = time.monotonic()
    again = start_worker()

    def taken_up_again() -> bool:
        with app.app_context():
            job = db.session.scalar(sa.select(PrintJob))
            again_or_ended = job.attempts >= 2 or not job.unfinished
            db.session.rollback()
        return again_or_ended

    wait_until(taken_up_again, 60, "the job running again, finished or failed", again.log)

    def finished() -> str | None:
        with app.app_context():
            job = db.session.scalar(sa.select(PrintJob))
            status = job.status if not job.unfinished else None
            db.session.rollback()
        return status

    status = wait_until(finished, 60 + 120, "the job to finish or fail", again.log)
    assert time.monotonic() - restarted < 60 + 120
    page = staff_client.get(job_url)
    if status == PrintJobStatus.DONE:
        assert "PDF herunterladen" in page.text
        pdf = staff_client.get(job_url + "/datei")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        with app.app_context():
            job = db.session.scalar(sa.select(PrintJob))
            assert job.attempts == 2 and len(job.marked_ids) == 1000
    else:
        assert "unterbrochen" in page.text


@pytest.mark.skipif(
    not (os.environ.get("EVENTAPP_TEST_DATABASE_URL") and REDIS_URL) and not REQUIRED,
    reason="needs PostgreSQL (EVENTAPP_TEST_DATABASE_URL) and Redis (EVENTAPP_TEST_REDIS_URL)",
)
def test_two_hosts_share_print_jobs_through_postgresql_and_redis(
    app: Flask, database_url: str, tmp_path: Path, start_worker: Callable[..., Worker]
) -> None:
    from bench.bench_registrations import gunicorn

    if not database_url.startswith("postgresql"):
        pytest.skip("the hosts share PostgreSQL; this run is on SQLite")
    queue = app.config["TASK_QUEUE_URL"]
    if not queue.startswith("redis"):
        pytest.skip("the hosts share a Redis queue; the run with the Redis queue covers it")
    with app.app_context():
        event = make_event()
        many_people(event.id, 600)
        make_organiser("staff@example.org", "staff-password-1", role="staff")
        event_id = event.id
        db.session.commit()
    shared = {
        "EVENTAPP_TASK_QUEUE_URL": queue,
        "EVENTAPP_RATELIMIT_STORAGE_URI": redis_database(),  # beside the queue, as allowed
    }
    hosts = {name: tmp_path / f"host-{name}" for name in ("a", "b")}
    for folder in hosts.values():
        folder.mkdir()
    for name, folder in hosts.items():  # a worker on each host, with its own instance folder
        start_worker(
            log=f"worker-{name}.log",
            TASK_QUEUE_URL=queue,
            INSTANCE_PATH=str(folder),
            SECRET_KEY="load-test-secret",
        )
    with (
        gunicorn(database_url, hosts["a"], 2, shared) as host_a,
        gunicorn(database_url, hosts["b"], 2, shared) as host_b,
    ):
        browser = requests.Session()
        login = browser.post(
            f"{host_a}/organisation/anmelden",
            data={"email": "staff@example.org", "password": "staff-password-1"},
            timeout=30,
        )
        assert login.status_code == 200 and "Abmelden" in login.text
        started = browser.post(
            f"{host_a}/organisation/veranstaltungen/{event_id}/druck/namensschilder",
            data={
                "layout": "a4-10",
                "selection": "all",
                "role": "participant",
                "sort": "name",
                "lang": "de",
            },
            allow_redirects=False,
            timeout=30,
        )
        assert started.status_code == 302, started.text[:2000]
        job_path = started.headers["Location"].split("://", 1)[-1].split("/", 1)[-1]
        seen = {"a": set(), "b": set()}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            for name, host in (("a", host_a), ("b", host_b)):
                page = browser.get(f"{host}/{job_path}", timeout=30)
                assert page.status_code == 200
                seen[name].add("progress" if "<progress" in page.text else "")
                seen[name].add("done" if "PDF herunterladen" in page.text else "")
            if "done" in seen["a"] and "done" in seen["b"]:
                break
            time.sleep(0.1)
        assert "done" in seen["a"] and "done" in seen["b"]
        assert "progress" in seen["a"] and "progress" in seen["b"]  # on both hosts
        pdf = browser.get(f"{host_b}/{job_path}/datei", timeout=60)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for folder in hosts.values():  # nothing of the job lies on either host's disk
        assert not list(folder.rglob("*.pdf"))
