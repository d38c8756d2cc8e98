"""The OpenAPI 3.1 document of the read-only JSON API at /api/v1."""

from __future__ import annotations

from typing import Any

from eventapp.models import ActivityKind

NULLABLE_STRING = {"type": ["string", "null"]}
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_INT = {"type": ["integer", "null"], "minimum": 0}
URL = {"type": "string", "format": "uri"}
KINDS = [kind.value for kind in ActivityKind]


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """Return a closed object schema whose properties are all required."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _page_of(name: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "links": _ref("PageLinks"),
        }
    )


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {"status": {"type": "integer"}, "message": {"type": "string"}},
            )
        }
    ),
    "PageLinks": _object(
        {
            "self": URL,
            "first": URL,
            "last": URL,
            "prev": {"type": ["string", "null"], "format": "uri"},
            "next": {"type": ["string", "null"], "format": "uri"},
        }
    ),
    "EventLinks": _object(
        {
            "self": URL,
            "page": URL,
            "rooms": URL,
            "activities": URL,
            "ical": URL,
            "frab_xml": URL,
            "frab_json": URL,
        }
    ),
    "Event": _object(
        {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "subtitle": {"type": "string"},
            "description": {"type": "string"},
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "timezone": {"type": "string", "examples": ["Europe/Berlin"]},
            "venue": {"type": "string"},
            "address": {"type": "string"},
            "registration_opens_at": NULLABLE_DATE_TIME,
            "registration_closes_at": NULLABLE_DATE_TIME,
            "capacity": NULLABLE_INT | {"description": "Places for the day; null: no limit."},
            "seats_left": NULLABLE_INT | {"description": "Free places; null: no limit."},
            "programme_changed_at": DATE_TIME,
            "links": _ref("EventLinks"),
        }
    ),
    "EventList": _object({"items": {"type": "array", "items": _ref("Event")}}),
    "Room": _object(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "capacity": {"type": "integer", "minimum": 0},
            "notes": {"type": "string", "description": "Floor, step-free access and the like."},
        }
    ),
    "RoomList": _object({"items": {"type": "array", "items": _ref("Room")}}),
    "RoomRef": _object({"id": {"type": "integer"}, "name": {"type": "string"}}),
    "Person": _object(
        {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "organisation": {"type": "string"},
        }
    ),
    "Activity": _object(
        {
            "id": {"type": "integer"},
            "uid": {"type": "string", "format": "uuid", "description": "Never changes."},
            "title": {"type": "string"},
            "kind": {"type": "string", "enum": KINDS},
            "starts_at": DATE_TIME,
            "ends_at": DATE_TIME,
            "duration_minutes": {"type": "integer", "minimum": 0},
            "room": {"oneOf": [_ref("RoomRef"), {"type": "null"}]},
            "capacity": NULLABLE_INT | {"description": "Seats; null: no seat limit."},
            "seats_left": NULLABLE_INT | {"description": "Free seats; null: no seat limit."},
            "requires_enrolment": {"type": "boolean"},
            "language": {"type": "string"},
            "description": {"type": "string"},
            "cancelled": {"type": "boolean"},
            "revision": {"type": "integer", "minimum": 0},
            "speakers": {"type": "array", "items": _ref("Person")},
            "moderators": {"type": "array", "items": _ref("Person")},
            "url": URL,
            "ical": URL,
        }
    ),
    "ActivityPage": _page_of("Activity"),
    "Network": _object(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "region": {"type": "string"},
            "state": {"type": "string", "description": "Federal state (Bundesland), in German."},
            "website": {"type": "string"},
        }
    ),
    "NetworkPage": _page_of("Network"),
}

SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The event's short name, e.g. innovationstag-2026.",
}
PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}}
PER_PAGE = {
    "name": "per_page",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _error(description: str) -> dict[str, Any]:
    return _ok("Error", description)


PATHS: dict[str, Any] = {
    "/events": {
        "get": {
            "operationId": "listEvents",
            "summary": "Published events, the latest first",
            "responses": {"200": _ok("EventList", "The events")},
        }
    },
    "/events/{slug}": {
        "get": {
            "operationId": "getEvent",
            "summary": "One published event",
            "parameters": [SLUG],
            "responses": {"200": _ok("Event", "The event"), "404": _error("No such event")},
        }
    },
    "/events/{slug}/rooms": {
        "get": {
            "operationId": "listRooms",
            "summary": "The event's rooms",
            "parameters": [SLUG],
            "responses": {"200": _ok("RoomList", "The rooms"), "404": _error("No such event")},
        }
    },
    "/events/{slug}/activities": {
        "get": {
            "operationId": "listActivities",
            "summary": "Published activities in programme order, with free seats",
            "parameters": [
                SLUG,
                PAGE,
                PER_PAGE,
                {"name": "kind", "in": "query", "schema": {"type": "string", "enum": KINDS}},
            ],
            "responses": {
                "200": _ok("ActivityPage", "One page of activities"),
                "400": _error("Bad page, per_page or kind"),
                "404": _error("No such event"),
            },
        }
    },
    "/events/{slug}/activities/{activity_id}": {
        "get": {
            "operationId": "getActivity",
            "summary": "One published activity",
            "parameters": [
                SLUG,
                {
                    "name": "activity_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
            ],
            "responses": {
                "200": _ok("Activity", "The activity"),
                "404": _error("No such event or activity"),
            },
        }
    },
    "/networks": {
        "get": {
            "operationId": "listNetworks",
            "summary": "The regional skilled-labour networks",
            "parameters": [
                PAGE,
                PER_PAGE,
                {
                    "name": "state",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Only networks of this federal state, e.g. Sachsen.",
                },
            ],
            "responses": {
                "200": _ok("NetworkPage", "One page of networks"),
                "400": _error("Bad page or per_page"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def openapi_document(server_url: str, docs_url: str | None = None) -> dict[str, Any]:
    """Return the OpenAPI document with the API's address (and its documentation page)."""
    external = {"externalDocs": {"description": "API documentation", "url": docs_url}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "eventapp API",
            "version": "1.0.0",
            "description": (
                "Read-only data of the published Innovationstag programme: events, rooms, "
                "activities with free seats, and the skilled-labour networks. Times are ISO 8601 "
                "with the event zone's UTC offset. No personal data of participants."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    } | (external if docs_url else {})
