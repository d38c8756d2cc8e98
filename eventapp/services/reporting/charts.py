"""The dashboard's charts as accessible SVG, built with ElementTree on the server.

Every chart is an <svg role="img"> named by its own <title> and <desc>; its numbers are also
written beside the bars, and a table with the same numbers follows it on the page. Colours
have at least 3:1 contrast against white and are never the only cue: waiting places are
hatched, free places outlined, lines dashed differently. The drawing is 320 units wide and
scales with the page (viewBox) at about its own size, so its text stays readable on a 320 px
screen.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import timedelta

from flask_babel import gettext as _
from markupsafe import Markup

from eventapp.services.reporting.figures import CheckinDay, EventFigures
from eventapp.timezones import format_local

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 320
MARGIN = 6
FONT = "system-ui, sans-serif"
TEXT = "#1a1a1a"
MUTED = "#595959"
GRID = "#c8c8c8"
CONFIRMED = "#0b4f8a"
WAITING = "#8a5a00"
ARRIVED = "#1d6b2f"
ABSENT = "#a1282c"


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    """Append an SVG child; attribute names use _ for - (font_size -> font-size)."""
    child = ET.SubElement(
        parent, tag, {name.rstrip("_").replace("_", "-"): str(v) for name, v in attrs.items()}
    )
    if text is not None:
        child.text = text
    return child


def _text(
    parent: ET.Element,
    x: float,
    y: float,
    content: str,
    size: int = 12,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = TEXT,
) -> ET.Element:
    return _element(
        parent,
        "text",
        content,
        x=f"{x:.1f}",
        y=f"{y:.1f}",
        font_size=size,
        font_family=FONT,
        text_anchor=anchor,
        font_weight=weight,
        fill=fill,
    )


def _fit(text: str, width: float, size: int = 12) -> str:
    """Shorten a label with an ellipsis so it fits the width (about 0.56 em a character)."""
    room = max(int(width / (size * 0.56)), 4)
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _wrap(text: str, width: float, size: int = 13, lines: int = 2) -> list[str]:
    """Break a label into at most `lines` lines that fit; the last one may be shortened."""
    room = max(int(width / (size * 0.56)), 4)
    result: list[str] = []
    rest = text
    while rest and len(result) < lines - 1 and len(rest) > room:
        cut = rest.rfind(" ", 0, room + 1)
        if cut <= 0:
            break
        result.append(rest[:cut])
        rest = rest[cut + 1 :]
    result.append(_fit(rest, width, size))
    return result


def _label_lines(parent: ET.Element, y: float, lines: list[str], full: str) -> None:
    """Write a bold label of one or more lines (16 units apart), its full text as tooltip."""
    label = _text(parent, MARGIN, y, lines[0], 13, weight="600")
    label.text = None
    _element(label, "title", full)
    for number, line in enumerate(lines):
        _element(label, "tspan", line, x=MARGIN, dy=0 if number == 0 else 16)


def _svg(chart_id: str, height: float, title: str, description: str) -> ET.Element:
    """Return the chart's root with its accessible name, description and hatch patterns."""
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {WIDTH} {math.ceil(height)}",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "class": "chart-svg",
            "id": f"{chart_id}-svg",
        },
    )
    _element(root, "title", title, id=f"{chart_id}-title")
    _element(root, "desc", description, id=f"{chart_id}-desc")
    defs = _element(root, "defs")
    for name, colour in (("waiting", WAITING), ("absent", ABSENT)):
        pattern = _element(
            defs,
            "pattern",
            id=f"{chart_id}-{name}",
            width=6,
            height=6,
            patternUnits="userSpaceOnUse",
            patternTransform="rotate(45)",
        )
        _element(pattern, "rect", width=6, height=6, fill="#ffffff")
        _element(pattern, "line", x1=0, y1=0, x2=0, y2=6, stroke=colour, stroke_width=3)
    return root


def _markup(root: ET.Element) -> Markup:
    # ElementTree escapes every text and attribute it writes (a test draws a title with markup).
    return Markup(ET.tostring(root, encoding="unicode"))  # noqa: S704  # nosec B704


def _nice_step(largest: int, ticks: int = 4) -> int:
    """Return a round step (1, 2, 5 × 10^n) so that about `ticks` steps cover the largest value."""
    raw = max(largest, 1) / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return max(int(factor * power), 1)
    return int(10 * power)


def _legend(parent: ET.Element, chart_id: str, y: float, items: list[tuple[str, str]]) -> None:
    """Draw legend swatches in a row: (kind, label) with kind solid:<colour>, hatch:<name>, free."""
    x = float(MARGIN)
    for kind, label in items:
        if kind.startswith("solid:"):
            _element(parent, "rect", x=x, y=y - 10, width=12, height=12, fill=kind[6:])
        elif kind.startswith("hatch:"):
            name = kind[6:]
            colour = WAITING if name == "waiting" else ABSENT
            _element(
                parent,
                "rect",
                x=x,
                y=y - 10,
                width=12,
                height=12,
                fill=f"url(#{chart_id}-{name})",
                stroke=colour,
            )
        elif kind.startswith("line:"):
            colour, dash = kind[5:].split("/")
            _element(
                parent,
                "line",
                x1=x,
                y1=y - 4,
                x2=x + 16,
                y2=y - 4,
                stroke=colour,
                stroke_width=3,
                stroke_dasharray=dash,
            )
            x += 4
        else:
            _element(
                parent, "rect", x=x, y=y - 10, width=12, height=12, fill="#ffffff", stroke=MUTED
            )
        _text(parent, x + 16, y, label, size=12)
        x += 16 + len(label) * 12 * 0.56 + 14


def registrations_chart(figures: EventFigures, chart_id: str = "anmeldungen") -> Markup:
    """Draw the running totals of registrations per day: confirmed solid, waiting dashed."""
    days = figures.registrations
    last = days[-1] if days else None
    confirmed = last.confirmed_total if last else 0
    waiting = last.waitlisted_total if last else 0
    title = _("Anmeldungen im Zeitverlauf")
    if last is None:
        description = _("Noch keine Anmeldungen.")
    else:
        description = _(
            "Anmeldungen vom %(first)s bis %(last)s, aufsummiert: %(confirmed)s bestätigt, "
            "%(waiting)s auf der Warteliste.",
            first=days[0].day.strftime("%d.%m.%Y"),
            last=last.day.strftime("%d.%m.%Y"),
            confirmed=confirmed,
            waiting=waiting,
        )
    top, plot_height, left, right = 30, 150, 38, WIDTH - MARGIN - 6
    root = _svg(chart_id, top + plot_height + 26, title, description)
    _legend(
        root,
        chart_id,
        14,
        [
            (f"line:{CONFIRMED}/none", _("Bestätigt: %(n)s", n=confirmed)),
            (f"line:{WAITING}/6 4", _("Warteliste: %(n)s", n=waiting)),
        ],
    )
    largest = max(confirmed, waiting, 1)
    step = _nice_step(largest)
    scale_top = step * math.ceil(largest / step)
    bottom = top + plot_height

    def y_of(value: int) -> float:
        return bottom - plot_height * value / scale_top

    for tick in range(0, scale_top + 1, step):
        _element(root, "line", x1=left, y1=y_of(tick), x2=right, y2=y_of(tick), stroke=GRID)
        _text(root, left - 4, y_of(tick) + 4, str(tick), size=11, anchor="end", fill=MUTED)
    count = len(days)

    def x_of(index: int) -> float:
        return left + (right - left) * (index / (count - 1) if count > 1 else 0.5)

    for field, colour, dash in (
        ("confirmed_total", CONFIRMED, "none"),
        ("waitlisted_total", WAITING, "6 4"),
    ):
        points = " ".join(
            f"{x_of(i):.1f},{y_of(getattr(d, field)):.1f}" for i, d in enumerate(days)
        )
        if count > 1:
            _element(
                root,
                "polyline",
                points=points,
                fill="none",
                stroke=colour,
                stroke_width=2.5,
                stroke_dasharray=dash,
                stroke_linejoin="round",
            )
        elif count == 1:
            _element(root, "circle", cx=x_of(0), cy=y_of(getattr(days[0], field)), r=4, fill=colour)
    # Up to four dates along the axis: the first, the last and evenly between.
    labels = sorted({round(i * (count - 1) / 3) for i in range(4)}) if count > 1 else [0] * count
    for index in labels:
        anchor = "middle"
        if count > 1 and index == 0:
            anchor = "start"
        elif count > 1 and index == count - 1:
            anchor = "end"
        _text(root, x_of(index), bottom + 16, days[index].day.strftime("%d.%m."), 11, anchor)
    return _markup(root)


def activities_chart(figures: EventFigures, chart_id: str = "angebote") -> Markup:
    """Draw one bar per enrolment activity: confirmed solid, free outlined, waiting hatched."""
    items = figures.activities
    title = _("Plätze je Workshop und Erfahrungsaustauschkreis")
    description = _(
        "%(count)s Angebote. Je Angebot: bestätigte Plätze (gefüllt), freie Plätze (umrandet) "
        "und Warteliste (schraffiert); die Zahlen stehen unter jedem Balken.",
        count=len(items),
    )
    row, top = 58, 24
    zone = figures.event.timezone
    usable = WIDTH - 2 * MARGIN
    labels = [
        _wrap(f"{format_local(item.starts_at, zone, '%H:%M')} {item.title}", usable)
        for item in items
    ]
    height = top + sum(row + 16 * (len(lines) - 1) for lines in labels) if items else top + row
    root = _svg(chart_id, height, title, description)
    _legend(
        root,
        chart_id,
        14,
        [
            (f"solid:{CONFIRMED}", _("bestätigt")),
            ("free", _("frei")),
            ("hatch:waiting", _("Warteliste")),
        ],
    )
    largest = max(
        [max(a.capacity or 0, a.confirmed) + a.waitlisted for a in items] + [1],
    )
    unit = usable / largest
    y = float(top)
    for item, lines in zip(items, labels, strict=True):
        _label_lines(root, y + 13, lines, item.title)
        y += 16 * (len(lines) - 1)
        group = _element(root, "g", class_="bar")
        x = float(MARGIN)
        segments = [(item.confirmed, "confirmed")]
        if item.free:
            segments.append((item.free, "free"))
        segments.append((item.waitlisted, "waiting"))
        for amount, kind in segments:
            if amount <= 0:
                continue
            width = amount * unit
            fill = {
                "confirmed": CONFIRMED,
                "free": "#ffffff",
                "waiting": f"url(#{chart_id}-waiting)",
            }[kind]
            stroke = {"confirmed": CONFIRMED, "free": MUTED, "waiting": WAITING}[kind]
            _element(group, "rect", x=x, y=y + 19, width=width, height=16, fill=fill, stroke=stroke)
            x += width
        numbers = [_("%(n)s bestätigt", n=item.confirmed)]
        if item.free is not None:
            numbers.append(_("%(n)s frei", n=item.free))
        else:
            numbers.append(_("ohne Platzgrenze"))
        numbers.append(_("%(n)s auf der Warteliste", n=item.waitlisted))
        _text(root, MARGIN, y + 50, " · ".join(numbers), size=12, fill=TEXT)
        y += row
    if not items:
        _text(root, MARGIN, top + 20, _("Keine Angebote mit Anmeldung."), size=12)
    return _markup(root)


def states_chart(figures: EventFigures, chart_id: str = "bundeslaender") -> Markup:
    """Draw the networks represented per Bundesland as horizontal bars, the 16 in a fixed order."""
    states = figures.states
    networks = sum(s.networks for s in states)
    with_any = sum(1 for s in states if s.networks)
    title = _("Vertretene Netzwerke je Bundesland")
    description = _(
        "%(networks)s Netzwerke mit bestätigten Personen aus %(states)s von 16 Bundesländern; "
        "die Zahl steht hinter jedem Balken.",
        networks=networks,
        states=with_any,
    )
    row, top, label_width = 22, 6, 164
    root = _svg(chart_id, top + row * len(states) + 4, title, description)
    largest = max([s.networks for s in states] + [1])
    bar_left = MARGIN + label_width
    usable = WIDTH - bar_left - MARGIN - 28
    for index, state in enumerate(states):
        y = top + index * row
        _text(root, bar_left - 6, y + 15, state.state, size=12, anchor="end")
        width = usable * state.networks / largest
        if state.networks:
            _element(root, "rect", x=bar_left, y=y + 4, width=width, height=14, fill=CONFIRMED)
        _text(root, bar_left + width + 4, y + 15, str(state.networks), size=12, weight="600")
    return _markup(root)


def checkins_chart(figures: EventFigures, day: CheckinDay, chart_id: str = "einlass") -> Markup:
    """Draw the check-ins per quarter-hour of one day as columns, hours labelled below."""
    zone = figures.event.timezone
    slots = day.slots
    busiest = max(slots, key=lambda s: s.count) if slots else None
    title = _("Einlass am %(day)s je Viertelstunde", day=day.day.strftime("%d.%m.%Y"))
    description = _(
        "%(total)s Personen eingecheckt zwischen %(first)s und %(last)s Uhr (%(zone)s); "
        "am meisten ab %(busiest)s Uhr: %(count)s.",
        total=day.total,
        first=format_local(slots[0].starts_at, zone, "%H:%M") if slots else "–",
        last=format_local(slots[-1].starts_at + timedelta(minutes=15), zone, "%H:%M")
        if slots
        else "–",
        zone=zone,
        busiest=format_local(busiest.starts_at, zone, "%H:%M") if busiest else "–",
        count=busiest.count if busiest else 0,
    )
    top, plot_height, left, right = 8, 140, 32, WIDTH - MARGIN
    bottom = top + plot_height
    root = _svg(chart_id, bottom + 24, title, description)
    largest = max([s.count for s in slots] + [1])
    step = _nice_step(largest)
    scale_top = step * math.ceil(largest / step)
    for tick in range(0, scale_top + 1, step):
        y = bottom - plot_height * tick / scale_top
        _element(root, "line", x1=left, y1=y, x2=right, y2=y, stroke=GRID)
        _text(root, left - 4, y + 4, str(tick), size=11, anchor="end", fill=MUTED)
    slot_width = (right - left) / max(len(slots), 1)
    for index, slot in enumerate(slots):
        x = left + index * slot_width
        height = plot_height * slot.count / scale_top
        if slot.count:
            _element(
                root,
                "rect",
                x=f"{x + 1:.1f}",
                y=f"{bottom - height:.1f}",
                width=f"{max(slot_width - 2, 1):.1f}",
                height=f"{height:.1f}",
                fill=ARRIVED,
            )
            if slot_width >= 16:
                _text(
                    root,
                    x + slot_width / 2,
                    bottom - height - 3,
                    str(slot.count),
                    size=11,
                    anchor="middle",
                )
        local = format_local(slot.starts_at, zone, "%H:%M")
        if local.endswith(":00"):
            hour_step = max(1, math.ceil(len(slots) / 4 / 6))
            if int(local[:2]) % hour_step == 0:
                _element(root, "line", x1=x, y1=bottom, x2=x, y2=bottom + 4, stroke=MUTED)
                _text(root, x, bottom + 16, local, size=11, anchor="middle")
    return _markup(root)


def no_shows_chart(figures: EventFigures, chart_id: str = "nicht-erschienen") -> Markup:
    """Draw per enrolment activity the confirmed people: came solid, did not come hatched."""
    items = figures.no_shows
    absent = sum(n.absent for n in items)
    title = _("Nicht erschienen je Workshop und Erfahrungsaustauschkreis")
    description = _(
        "%(count)s Angebote, zusammen %(absent)s von %(confirmed)s bestätigten Plätzen nicht "
        "wahrgenommen; die Zahlen stehen unter jedem Balken.",
        count=len(items),
        absent=absent,
        confirmed=sum(n.confirmed for n in items),
    )
    row, top = 58, 24
    zone = figures.event.timezone
    usable = WIDTH - 2 * MARGIN
    labels = [
        _wrap(f"{format_local(item.starts_at, zone, '%H:%M')} {item.title}", usable)
        for item in items
    ]
    height = top + sum(row + 16 * (len(lines) - 1) for lines in labels) if items else top + row
    root = _svg(chart_id, height, title, description)
    _legend(
        root,
        chart_id,
        14,
        [(f"solid:{ARRIVED}", _("erschienen")), ("hatch:absent", _("nicht erschienen"))],
    )
    largest = max([n.confirmed for n in items] + [1])
    y = float(top)
    for item, lines in zip(items, labels, strict=True):
        _label_lines(root, y + 13, lines, item.title)
        y += 16 * (len(lines) - 1)
        came = item.confirmed - item.absent
        x = float(MARGIN)
        if came:
            width = usable * came / largest
            _element(root, "rect", x=x, y=y + 19, width=width, height=16, fill=ARRIVED)
            x += width
        if item.absent:
            width = usable * item.absent / largest
            _element(
                root,
                "rect",
                x=x,
                y=y + 19,
                width=width,
                height=16,
                fill=f"url(#{chart_id}-absent)",
                stroke=ABSENT,
            )
        summary = _(
            "%(absent)s von %(confirmed)s nicht erschienen",
            absent=item.absent,
            confirmed=item.confirmed,
        )
        _text(root, MARGIN, y + 50, summary, size=12)
        y += row
    if not items:
        _text(root, MARGIN, top + 20, _("Keine Angebote mit Anmeldung."), size=12)
    return _markup(root)
