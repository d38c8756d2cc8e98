"""Run a web server with the worker beside it, and stop both together.

`make run` and `make serve` use it: `python -m eventapp.cli.supervise SERVER_COMMAND…` starts
`eventapp worker` and the server; when either ends (Ctrl-C, a crash, a port in use), the other is
stopped too, so nothing keeps running unseen. Production runs the two as separate services.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

# How long a process may take to stop before it is killed.
STOP_WAIT = 15.0


def worker_command() -> list[str]:
    """Return the command that starts the worker from the same installation."""
    return [sys.executable, "-c", "from eventapp.cli import main; main()", "worker"]


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a process to stop (as Ctrl-C does), then kill it if it does not."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(server: list[str]) -> int:
    """Start the worker and the server; return the server's exit status."""
    if not server:
        print("usage: python -m eventapp.cli.supervise SERVER_COMMAND …", file=sys.stderr)
        return 2
    started: list[subprocess.Popen[bytes]] = []
    ended = {"signal": False}

    def forward(signum: int, _frame: object) -> None:
        ended["signal"] = True
        for process in started:
            if process.poll() is None:
                process.send_signal(signum)

    # Handled before the children start, so each of them starts with Ctrl-C at its default
    # even where it was ignored for this process (`make run &` from a script).
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    worker = subprocess.Popen(worker_command())  # noqa: S603 - our own fixed command
    started.append(worker)
    web = subprocess.Popen(server)  # noqa: S603 - the Makefile's command
    started.append(web)
    try:
        while web.poll() is None and worker.poll() is None:
            time.sleep(0.2)
    finally:
        if worker.poll() is not None and web.poll() is None and not ended["signal"]:
            print("eventapp: the worker stopped; stopping the server too", file=sys.stderr)
        for process in (web, worker):
            stop(process)
    if ended["signal"]:
        return 0  # stopped as asked (Ctrl-C, kill): nothing went wrong
    return web.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
