"""Does a form tell whether an address is registered? Known against unknown, by answer and time.

Both public forms that take an address, "Link anfordern" and the registration form, must give
the same answer (status, redirect, cookie, page) and take the same time for an address that is
registered and one that is not; otherwise anyone could find out who is coming. Served by
gunicorn with `eventapp worker` beside it (as `make serve`), CSRF on, each attempt as a browser
makes it: load the form, fill it by its labels, post it, follow the redirect. Attempts run one
at a time, known and unknown alternating, so both meet the same load. The time is the POST's
own answer (where a lookup or a different path would show) and, beside it, POST + redirect.
Other work on the machine makes single times jitter; the server's CPU per POST (one web worker,
read from /proc around each POST and averaged) shows the work each path does regardless.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.beside_floor import WORKSHOP, database_for, databases, person
from bench.serving import gunicorn, mail_process, server_cpu_seconds
from bench.web_client import Browser, fill_form

# Samples per kind (known, unknown) and form, after the warm-up.
SAMPLES = int(os.environ.get("EVENTAPP_BENCH_ENUMERATION_SAMPLES", "80"))
WARM_UP = 10
GOAL_MS = 10.0
KNOWN = range(1, 11)  # registered before the measurement; used in turn


@dataclass
class Attempt:
    """One attempt as a prober sees it: the answer's shape and how long it took."""

    post_ms: float
    total_ms: float
    cpu_ms: float
    answer: tuple[int, str, bool, str]


def without_token(page: str) -> str:
    """Blank the form token, which differs on every page by design."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", page)


def attempt(url: str, form_path: str, typed: dict[str, str], server_pid: int = 0) -> Attempt:
    """Load the form, fill it, post it, follow the redirect; time the POST and POST + redirect."""
    browser = Browser(url)
    form = browser.get(form_path)
    fields = fill_form(form.text, typed)
    cpu_before = server_cpu_seconds(server_pid) if server_pid else 0.0
    began = time.perf_counter()
    posted = browser.post(form_path, fields, follow=False)
    answered = time.perf_counter()
    cpu = (server_cpu_seconds(server_pid) - cpu_before) if server_pid else 0.0
    location = posted.headers.get("location", "")
    page = browser.get(location).text if location else posted.text
    ended = time.perf_counter()
    shape = (posted.status, location, "set-cookie" in posted.headers, without_token(page))
    return Attempt((answered - began) * 1000, (ended - began) * 1000, cpu * 1000, shape)


def registration_typed(index: int) -> dict[str, str]:
    """What person number index types on the registration form (with the workshop)."""
    return person(index) | {WORKSHOP: "x"}


def link_typed(index: int) -> dict[str, str]:
    """What person number index types on "Link anfordern"."""
    return {"E-Mail-Adresse": person(index)["E-Mail-Adresse"]}


def alternate(
    url: str,
    form_path: str,
    typed: Callable[[int], dict[str, str]],
    unknown_from: int,
    server_pid: int,
) -> tuple[list[Attempt], list[Attempt]]:
    """Run known and unknown attempts in turn (which goes first alternates); return both."""
    known: list[Attempt] = []
    unknown: list[Attempt] = []
    for number in range(WARM_UP + SAMPLES):
        pair = [
            ("known", KNOWN[number % len(KNOWN)]),
            ("unknown", unknown_from + number),
        ]
        for kind, index in pair if number % 2 == 0 else reversed(pair):
            result = attempt(url, form_path, typed(index), server_pid)
            if number >= WARM_UP:
                (known if kind == "known" else unknown).append(result)
    return known, unknown


def row(label: str, form: str, known: list[Attempt], unknown: list[Attempt]) -> dict[str, Any]:
    """Return one table row: medians, their difference, the goal, whether the answers match."""
    median_known = statistics.median(a.post_ms for a in known)
    median_unknown = statistics.median(a.post_ms for a in unknown)
    difference = median_known - median_unknown
    shapes = {a.answer for a in known} | {a.answer for a in unknown}
    same = len(shapes) == 1
    status = next(iter(shapes))[0] if same else "differs"
    return {
        "database": label,
        "form": form,
        "samples": f"{len(known)}+{len(unknown)}",
        "status": status,
        "same answer": "yes" if same else "NO",
        "median known ms": median_known,
        "median unknown ms": median_unknown,
        "difference ms": difference,
        "goal": f"|difference| ≤ {GOAL_MS:g} ms, same answer",
        "met": "yes" if same and abs(difference) <= GOAL_MS else "NO",
        "+redirect known ms": statistics.median(a.total_ms for a in known),
        "+redirect unknown ms": statistics.median(a.total_ms for a in unknown),
        # /proc counts CPU in 10 ms ticks: the mean over many POSTs is the figure, not one.
        "cpu/POST known ms": statistics.mean(a.cpu_ms for a in known),
        "cpu/POST unknown ms": statistics.mean(a.cpu_ms for a in unknown),
        "load": os.getloadavg()[0],
    }


def measure(label: str, database_url: str, scratch: Path) -> list[dict[str, Any]]:
    """Serve eventapp on one database, register the known people, then probe both forms."""
    from bench.bench_registrations import prepare

    (slug, _activity_id), _warm = prepare(database_url, scratch, capacity=40, networks=True)
    register_path, link_path = f"/{slug}/anmeldung", f"/{slug}/link-anfordern"
    with (
        # One web worker: attempts come one at a time, and its CPU is then theirs alone.
        gunicorn(database_url, scratch, 1, csrf=True) as url,
        mail_process(database_url, scratch),
    ):
        server_pid = int((scratch / "gunicorn.pid").read_text())
        for index in KNOWN:
            first = attempt(url, register_path, registration_typed(index))
            if first.answer[0] != 302:
                raise RuntimeError(f"registering person {index} answered {first.answer[0]}")
        rows = []
        for form, path, typed, unknown_from in (
            ("Link anfordern", link_path, link_typed, 500_000),
            ("registration", register_path, registration_typed, 600_000),
        ):
            known, unknown = alternate(url, path, typed, unknown_from, server_pid)
            rows.append(row(label, form, known, unknown))
    return rows


def run() -> list[dict[str, Any]]:
    """Probe both forms on SQLite, and on PostgreSQL when EVENTAPP_BENCH_DATABASE_URL is set."""
    rows: list[dict[str, Any]] = []
    for label in databases():
        with database_for(label) as database_url, tempfile.TemporaryDirectory() as scratch:
            rows += measure(label, database_url, Path(scratch))
    return rows


if __name__ == "__main__":
    from bench.__main__ import main

    raise SystemExit(main(["enumeration"]))
