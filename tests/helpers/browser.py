"""A browser page for a test: only the live server reachable, axe-core's WCAG 2.1 AA check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import LiveServer

# axe-core, vendored in tests/vendor (MPL-2.0, see the README there); nothing is fetched.
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@contextmanager
def browser_page(browser: Any, server: LiveServer, **options: Any) -> Iterator[Any]:
    """Open a page in a fresh context whose requests may only reach the live server."""
    context = browser.new_context(base_url=server.url, locale="de-DE", **options)

    def only_loopback(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Any, known_gaps: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page and return the violations found."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async ([tags, skipped]) => {
            const rules = Object.fromEntries(skipped.map((rule) => [rule, {enabled: false}]));
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, rules});
            return result.violations.map((v) => ({
                rule: v.id,
                help: v.help,
                nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }""",
        [WCAG_21_AA, list(known_gaps)],
    )
