"""Run one print job in its own process: `python -m eventapp.print_worker JOB_ID`."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Render the job given on the command line and exit."""
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m eventapp.print_worker JOB_ID", file=sys.stderr)
        return 2
    from eventapp import create_app
    from eventapp.services.printing.jobs import run_job

    app = create_app()
    with app.app_context():
        run_job(int(argv[0]), own_process=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
