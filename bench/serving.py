"""Start the servers a benchmark drives (gunicorn, the worker) and read their CPU use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
# As `make serve` (its WORKERS).
WORKERS = 4


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(
    database_url: str,
    instance: Path,
    workers: int = WORKERS,
    extra_env: dict[str, str] | None = None,
    *,
    app: str = "eventapp:create_app()",
    csrf: bool = False,
    options: Sequence[str] = (),
) -> Iterator[str]:
    """Serve an app with gunicorn on a free port (rate limit raised); yield its URL.

    CSRF stays off unless asked for: the POST-only bursts send no token.
    """
    port = free_port()
    env = os.environ | {
        "EVENTAPP_DATABASE_URL": database_url,
        "EVENTAPP_INSTANCE_PATH": str(instance),
        "EVENTAPP_SECRET_KEY": "load-test-secret",
        "EVENTAPP_WTF_CSRF_ENABLED": "1" if csrf else "0",
        "EVENTAPP_RATELIMIT_ENABLED": "1",
        "EVENTAPP_REGISTER_RATE_LIMIT": "100000 per minute",
        "EVENTAPP_MAIL_BACKEND": "file",
        "EVENTAPP_MAIL_FILE_DIR": str(instance / "mail"),
    }
    env.pop("EVENTAPP_TEST_DATABASE_URL", None)
    env |= extra_env or {}
    log = open(instance / "gunicorn.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--pid",
            str(instance / "gunicorn.pid"),
            "--logger-class",
            "eventapp.log_redaction.RedactingLogger",
            "--access-logfile",
            str(instance / "access.log"),
            *options,
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError((instance / "gunicorn.log").read_text(errors="replace"))
            try:
                requests.get(url + "/", timeout=30)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # Let every worker import the app before the burst starts.
        with ThreadPoolExecutor(max_workers=workers * 2) as pool:
            list(pool.map(lambda _: requests.get(url + "/", timeout=30), range(workers * 4)))
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def server_cpu_seconds(pid: int) -> float:
    """Return the CPU time used so far by a process and its children (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


@contextmanager
def mail_process(database_url: str, instance: Path) -> Iterator[int]:
    """Run `eventapp worker` beside the server, as `make serve` and production do."""
    env = os.environ | {
        "EVENTAPP_DATABASE_URL": database_url,
        "EVENTAPP_INSTANCE_PATH": str(instance),
        "EVENTAPP_SECRET_KEY": "load-test-secret",
        "EVENTAPP_MAIL_BACKEND": "file",
        "EVENTAPP_MAIL_FILE_DIR": str(instance / "mail"),
    }
    log = open(instance / "worker.log", "wb")  # noqa: SIM115
    command = [str(GUNICORN.with_name("eventapp")), "worker"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def pending_mail(database_url: str) -> int:
    """Count the mails still waiting in the outbox."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(
            sa.text("SELECT count(*) FROM outbox_mail WHERE status = 'pending'")
        ).scalar_one()
    engine.dispose()
    return int(count)


def _proc_cpu_seconds(pid: int) -> float | None:
    """Return one process's user + system CPU time, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DatabaseCpu:
    """CPU spent by the PostgreSQL backends serving one database on this host (read from /proc).

    PostgreSQL names each backend "postgres: … user database host(port) state", so the backends
    of the benchmark's database are found without asking the server. A sampler notes their
    CPU time every quarter second, so backends that end during the run still count (up to
    their last sample). The cluster's shared processes (WAL writer, checkpointer) are not
    counted: other databases on the same server use them too. SQLite runs inside the app's
    processes and is counted there, so for SQLite this reads 0.
    """

    def __init__(self, database_url: str, exclude: set[int] | None = None) -> None:
        url = sa.make_url(database_url)
        self.marker = f" {url.database} " if url.get_backend_name() == "postgresql" else ""
        self.exclude = exclude or set()
        self._baseline: dict[int, float] = {}
        self._latest: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _backends(self) -> list[int]:
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) in self.exclude:
                continue
            try:
                title = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and self.marker.encode() in title:
                found.append(int(entry.name))
        return found

    def _sample(self) -> dict[int, float]:
        seen = {}
        for pid in self._backends():
            cpu = _proc_cpu_seconds(pid)
            if cpu is not None:
                seen[pid] = cpu
        return seen

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self._latest.update(self._sample())

    def start(self) -> None:
        """Note the backends' CPU so far and start sampling."""
        if not self.marker:
            return
        self._baseline = self._sample()
        self._latest = dict(self._baseline)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """Stop sampling and return the CPU seconds the backends used since start()."""
        if self._thread is None:
            return 0.0
        self._stop.set()
        self._thread.join()
        self._latest.update(self._sample())
        return sum(cpu - self._baseline.get(pid, 0.0) for pid, cpu in self._latest.items())


class Probe:
    """One open connection for the benchmark's own checks, its backend left out of the CPU."""

    def __init__(self, database_url: str) -> None:
        self.engine = sa.create_engine(database_url, poolclass=sa.pool.StaticPool)
        self.connection = self.engine.connect()
        self.backend_pid: int | None = None
        if self.engine.dialect.name == "postgresql":
            self.backend_pid = self.connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()

    def scalar(self, statement: str, **params: object) -> object:
        """Run one read in its own short transaction and return the first value."""
        try:
            return self.connection.execute(sa.text(statement), params).scalar()
        finally:
            self.connection.rollback()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()
        self.engine.dispose()
