"""One page of the organisers' registration list: sorted, counted and paged in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import load_only, selectinload

from eventapp.collation import german_order, german_sort_key
from eventapp.extensions import db
from eventapp.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Network,
    ParticipantRole,
    Registration,
    RegistrationStatus,
)
from eventapp.services.registration.lists import RegistrationFilter, filter_conditions

PAGE_SIZES = (50, 100, 200)
DEFAULT_PAGE_SIZE = PAGE_SIZES[0]
DEFAULT_SORT = "name"


def _in_order(column: Any, values: Sequence[str]) -> sa.ColumnElement[int]:
    """Return the position of the column's value in a list (for choices shown in that order)."""
    return sa.case({value: index for index, value in enumerate(values)}, value=column, else_=99)


def _active_workshops() -> sa.ScalarSelect[int]:
    """Count a registration's places in activities (seats and waiting places)."""
    return (
        sa.select(sa.func.count(Enrolment.id))
        .where(
            Enrolment.registration_id == Registration.id,
            Enrolment.status != EnrolmentStatus.CANCELLED,
        )
        .correlate(Registration)
        .scalar_subquery()
    )


def _sort_columns(sort: str) -> list[Any]:
    """Return the columns a sort key orders by (before the name and id tie-breakers)."""
    if sort == "organisation":
        return [german_order(Registration.organisation)]
    if sort == "netzwerk":
        return [german_order(sa.func.coalesce(Network.name, ""))]
    if sort == "rolle":
        return [_in_order(Registration.role, [str(r) for r in ParticipantRole])]
    if sort == "status":
        return [_in_order(Registration.status, [str(s) for s in RegistrationStatus])]
    if sort == "workshops":
        return [_active_workshops()]
    if sort == "angemeldet":
        return [Registration.created_at]
    return []


# What a list row shows of a registration (the rest, such as the badge's QR image, stays unread).
LIST_COLUMNS = (
    Registration.id, Registration.event_id, Registration.title, Registration.first_name,
    Registration.last_name, Registration.email, Registration.organisation, Registration.state,
    Registration.network_id, Registration.role, Registration.status,
    Registration.added_by_organiser, Registration.checked_in_at, Registration.created_at,
)  # fmt: skip

# The list's columns that sort, in the order shown; "name" is the default.
SORTS = ("name", "organisation", "netzwerk", "rolle", "status", "workshops", "angemeldet")


@dataclass
class ListCounts:
    """How many registrations match the filter, and how they stand."""

    total: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    checked_in: int = 0


@dataclass
class ListOrder:
    """How the list is sorted and paged, as the organiser asked (odd values already replaced)."""

    sort: str = DEFAULT_SORT
    descending: bool = False
    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE


@dataclass
class ListPage:
    """The registrations shown on one page, the counts above them and where the page stands."""

    registrations: list[Registration]
    counts: ListCounts
    order: ListOrder
    pages: int

    @property
    def first_number(self) -> int:
        """Return the running number of the page's first row (0 when nothing matches)."""
        if not self.registrations:
            return 0
        return (self.order.page - 1) * self.order.per_page + 1

    @property
    def last_number(self) -> int:
        """Return the running number of the page's last row."""
        return self.first_number + len(self.registrations) - 1 if self.registrations else 0

    def page_numbers(self, around: int = 2) -> list[int | None]:
        """Return the page numbers to link: first, last and those near this one; None for a gap."""
        wanted = {1, self.pages} | set(
            range(max(1, self.order.page - around), min(self.pages, self.order.page + around) + 1)
        )
        shown: list[int | None] = []
        previous = 0
        for number in sorted(wanted):
            if number - previous > 1:
                shown.append(None)
            shown.append(number)
            previous = number
        return shown


def count_matching(event: Event, wanted: RegistrationFilter) -> ListCounts:
    """Count the matching registrations by status and checked in, in one query."""

    def how_many(condition: sa.ColumnElement[bool]) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        sa.select(
            sa.func.count(Registration.id),
            how_many(Registration.status == RegistrationStatus.CONFIRMED),
            how_many(Registration.status == RegistrationStatus.WAITLISTED),
            how_many(Registration.status == RegistrationStatus.CANCELLED),
            how_many(Registration.checked_in_at.is_not(None)),
        ).where(*filter_conditions(event, wanted))
    ).one()
    return ListCounts(*(int(value or 0) for value in row))


def _ordered(query: Any, order: ListOrder) -> Any:
    """Sort a query of registrations: the chosen column, then name and id (stable pages)."""
    columns = _sort_columns(order.sort)
    name = [german_order(Registration.last_name), german_order(Registration.first_name)]
    if order.sort == "netzwerk":
        query = query.outerjoin(Network, Network.id == Registration.network_id)
    if not columns:  # by name: the name is the sorted column
        columns, name = name, []
    chosen = [c.desc() if order.descending else c.asc() for c in columns]
    # Ties keep name and id order whichever way the column runs, so pages never overlap.
    return query.order_by(*chosen, *name, Registration.id)


def _page_of_ids(
    event: Event, wanted: RegistrationFilter, order: ListOrder, total: int
) -> tuple[ListOrder, int, list[int]]:
    """Return the order (page moved into range), the page count and the page's ids in order.

    Only ids and sort keys go through the sort, so a late page costs about what the first does.
    """
    pages = max(1, -(-total // order.per_page))
    order = ListOrder(order.sort, order.descending, min(max(order.page, 1), pages), order.per_page)
    query = (
        _ordered(sa.select(Registration.id).where(*filter_conditions(event, wanted)), order)
        .limit(order.per_page)
        .offset((order.page - 1) * order.per_page)
    )
    return order, pages, list(db.session.scalars(query))


def list_page(event: Event, wanted: RegistrationFilter, order: ListOrder) -> ListPage:
    """Return one page of matches with the counts; a page past the end shows the last."""
    counts = count_matching(event, wanted)
    order, pages, ids = _page_of_ids(event, wanted, order, counts.total)
    loaded = {
        r.id: r
        for r in db.session.scalars(
            sa.select(Registration)
            .where(Registration.id.in_(ids))
            .options(
                load_only(*LIST_COLUMNS),
                selectinload(Registration.network),
                selectinload(Registration.enrolments).selectinload(Enrolment.activity),
            )
        )
    }
    return ListPage([loaded[i] for i in ids if i in loaded], counts, order, pages)


def page_ids(event: Event, wanted: RegistrationFilter, order: ListOrder) -> list[int]:
    """Return the ids of the registrations on one page (as list_page shows them)."""
    return _page_of_ids(event, wanted, order, count_matching(event, wanted).total)[2]


def matching_ids(event: Event, wanted: RegistrationFilter) -> list[int]:
    """Return the ids of every registration matching the filter."""
    query = sa.select(Registration.id).where(*filter_conditions(event, wanted))
    return sorted(db.session.scalars(query))


def known_ids(event: Event, ids: Sequence[int]) -> list[int]:
    """Return those of the ids that are registrations of this event (others are dropped)."""
    if not ids:
        return []
    found: set[int] = set()
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):  # keep each IN list short
        chunk = unique[start : start + 500]
        found.update(
            db.session.scalars(
                sa.select(Registration.id).where(
                    Registration.event_id == event.id, Registration.id.in_(chunk)
                )
            )
        )
    return sorted(found)


def registrations_by_ids(event: Event, ids: Sequence[int]) -> list[Registration]:
    """Load the event's registrations with these ids, with their places, in name order."""
    if not ids:
        return []
    loaded: list[Registration] = []
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        loaded += db.session.scalars(
            sa.select(Registration)
            .where(
                Registration.event_id == event.id, Registration.id.in_(unique[start : start + 500])
            )
            .options(
                selectinload(Registration.network),
                selectinload(Registration.enrolments).selectinload(Enrolment.activity),
            )
        )
    return sorted(
        loaded,
        key=lambda r: (german_sort_key(r.last_name), german_sort_key(r.first_name), r.id),
    )
