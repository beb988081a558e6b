"""What a filter may name in each collection, derived from the public feature models.

The queryables are the public properties with one scalar value (text, date, number, boolean),
plus the feature id and its geometry. They are read from `chalicelib.domain.public`, so a
property added there becomes queryable, typed, in `/queryables` and in the OpenAPI document at
once. Lists and nested objects are not queryable (CQL2's basic classes compare single values).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.filters import Queryable
from chalicelib.domain.public import (
    PublicBusinessProperties,
    PublicMunicipalityProperties,
    PublicNetworkProperties,
)

_MODELS: dict[str, type[BaseModel]] = {
    "businesses": PublicBusinessProperties,
    "networks": PublicNetworkProperties,
    "network-meeting-places": PublicNetworkProperties,
    "municipalities": PublicMunicipalityProperties,
}
_ID_TEXT = {
    "businesses": "CVR number (8 digits), the feature id.",
    "networks": "The network's id (a slug), the feature id.",
    "network-meeting-places": "The network's id (a slug), the feature id.",
    "municipalities": "Kommunekode, the feature id.",
}
_GEOMETRY_FORMAT = {
    "businesses": "geometry-point",
    "networks": "geometry-polygon-or-multipolygon",
    "network-meeting-places": "geometry-point",
    "municipalities": "geometry-multipolygon",
}


def _scalar(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The non-null alternative of a property's JSON Schema, if it holds one scalar value."""
    options = schema.get("anyOf", [schema])
    kept = [o for o in options if o.get("type") != "null"]
    if len(kept) != 1:
        return None
    one = kept[0]
    if one.get("type") in ("string", "integer", "number", "boolean"):
        return one
    if "enum" in one or "const" in one:
        return {"type": "string", **one}
    return None


@cache
def queryables(collection: str) -> dict[str, Queryable]:
    """The queryable properties of a collection, by name, in the model's order."""
    model = _MODELS[collection]
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    out: dict[str, Queryable] = {"id": Queryable("id", "string", _ID_TEXT[collection])}
    for name, prop in schema["properties"].items():
        if "$ref" in prop:
            prop = defs[prop["$ref"].rsplit("/", 1)[-1]]
        one = (
            _scalar(prop)
            if "anyOf" in prop or "type" in prop
            else _scalar(
                {
                    "anyOf": [
                        defs.get(r["$ref"].rsplit("/", 1)[-1], r) for r in prop.get("allOf", [])
                    ]
                }
            )
        )
        if one is None:
            continue
        kind = one["type"]
        if kind == "string" and one.get("format") in ("date", "date-time"):
            kind = one["format"]
        enum = tuple(one["enum"]) if "enum" in one else None
        description = prop.get("description") or one.get("description") or ""
        out[name] = Queryable(name, kind, description, enum)
    return out


def queryables_document(base: str, collection: str, title: str) -> dict[str, Any]:
    """`/collections/{id}/queryables`: the queryables as a JSON Schema (Part 3)."""
    properties: dict[str, Any] = {
        "geometry": {
            "title": "Geometry",
            "format": _GEOMETRY_FORMAT[collection],
            "x-ogc-role": "primary-geometry",
        }
    }
    for q in queryables(collection).values():
        prop: dict[str, Any] = {"title": q.name}
        if q.type in ("date", "date-time"):
            prop.update(type="string", format=q.type)
        else:
            prop["type"] = q.type
        if q.enum:
            prop["enum"] = list(q.enum)
        if q.description:
            prop["description"] = q.description
        if q.name == "id":
            prop["x-ogc-role"] = "id"
        if collection == "businesses" and q.name == "founded":
            prop["x-ogc-role"] = "primary-instant"
        properties[q.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{collection}/queryables",
        "type": "object",
        "title": f"{title}: queryables",
        "description": "The properties a `filter` (CQL2 text or JSON) may name, with their "
        "types. Dates are compared as dates: DATE('2020-01-01') or '2020-01-01'.",
        "properties": properties,
        "additionalProperties": False,
    }
