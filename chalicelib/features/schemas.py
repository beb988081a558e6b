"""The schema of each collection's features (OGC API - Features - Part 5: Schemas).

`/collections/{id}/schema` is a JSON Schema 2020-12 of what a feature carries: its id, its
geometry and every public property, typed from the public models of `chalicelib.domain.public`
(the same models the privacy rules build the features with), so a property added there is in
the schema, in the CSV columns and in `properties=` at once. The roles come from the
queryables (`x-ogc-role` id, primary-geometry, and primary-instant on the collection's temporal
property), so the two documents never disagree.

Nullability: a property that may be null is typed by its values (`"type": "string", "format":
"date"`) and left out of `required`; only properties that always carry a value are required.
A `type` array (`["string", "null"]`) is not used: GDAL types a field it finds so as String,
where `format: date` makes it a Date.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from chalicelib.features.collections import COLLECTION_INFO
from chalicelib.features.queryables import _MODELS, queryables, queryables_document

SCHEMA_JSON = "application/schema+json"
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
JSON_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# Keywords a property schema keeps from pydantic's (the rest, titles and defaults, go).
_KEPT = (
    "type",
    "format",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "description",
)
_NULL = {"type": "null"}


def property_model(collection: str) -> type[BaseModel]:
    """The public model of a collection's feature properties."""
    return _MODELS[collection]


@cache
def property_names(collection: str) -> tuple[str, ...]:
    """The public property names of a collection's features, in the model's order."""
    return tuple(property_model(collection).model_fields)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    if "allOf" in node and len(node["allOf"]) == 1:
        inner = _resolve(node["allOf"][0], defs)
        node = {**inner, **{k: v for k, v in node.items() if k != "allOf"}}
    return node


def _is_point(node: dict[str, Any]) -> bool:
    props = node.get("properties") or {}
    kind = props.get("type") or {}
    return node.get("type") == "object" and (
        kind.get("const") == "Point" or kind.get("enum") == ["Point"]
    )


def _clean(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A property's JSON Schema as Part 5 wants it: inline (no $ref), one `type` (null left
    to `required`), a GeoJSON point as a spatial property (`format`, no `type`)."""
    node = _resolve(node, defs)
    description = node.get("description")
    if "anyOf" in node:
        options = [_resolve(o, defs) for o in node["anyOf"] if o != _NULL]
        if len(options) == 1:
            node = {**options[0], **({"description": description} if description else {})}
        else:
            node = {**node, "anyOf": [_clean(o, defs) for o in options]}
    if _is_point(node):
        out: dict[str, Any] = {"format": "geometry-point"}
        if node.get("description"):
            out["description"] = node["description"]
        return out
    out = {}
    if "const" in node:
        out["enum"] = [node["const"]]
        if isinstance(node["const"], str):
            out["type"] = "string"
    for key in _KEPT:
        if key not in node:
            continue
        value = node[key]
        if key == "items" and isinstance(value, dict):
            value = _clean(value, defs)
        elif key == "properties":
            value = {name: _clean(v, defs) for name, v in value.items()}
        elif key == "enum":
            value = [v for v in value if v is not None]
        out[key] = value
    if "anyOf" in node and "type" not in out:
        out["anyOf"] = node["anyOf"]
        kinds = {o.get("type") for o in node["anyOf"]}
        if len(kinds) == 1 and None not in kinds:
            out["type"] = kinds.pop()
    if "enum" in out and "type" not in out:
        kinds = {type(v) for v in out["enum"]}
        out["type"] = {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
            kinds.pop() if len(kinds) == 1 else object, "string"
        )
    return out


def _nullable(node: dict[str, Any]) -> bool:
    return "anyOf" in node and _NULL in node["anyOf"]


@cache
def _property_schemas(collection: str) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    """Every property's schema by name (model order), and the names that never hold null."""
    schema = property_model(collection).model_json_schema(mode="serialization")
    defs = schema.get("$defs", {})
    out: dict[str, dict[str, Any]] = {}
    required = []
    for name, node in schema["properties"].items():
        out[name] = _clean(node, defs)
        if not _nullable(_resolve(node, defs)) and name in schema.get("required", []):
            required.append(name)
    return out, tuple(required)


def roles(collection: str) -> dict[str, str]:
    """`x-ogc-role` by property name, as the queryables declare them (id, the geometry, the
    temporal property)."""
    doc = queryables_document("", collection, COLLECTION_INFO[collection].title)
    return {
        name: prop["x-ogc-role"] for name, prop in doc["properties"].items() if "x-ogc-role" in prop
    }


def geometry_format(collection: str) -> str:
    doc = queryables_document("", collection, COLLECTION_INFO[collection].title)
    return doc["properties"]["geometry"]["format"]


def temporal_property(collection: str) -> tuple[str, str] | None:
    """The collection's primary instant, as (name, "date" or "date-time"), or None."""
    if not COLLECTION_INFO[collection].temporal:
        return None
    for name, role in roles(collection).items():
        if role == "primary-instant":
            return name, queryables(collection)[name].type
    return None


def schema_document(base: str, collection: str) -> dict[str, Any]:
    """`/collections/{id}/schema`: the features' id, geometry and properties (Part 5)."""
    info = COLLECTION_INFO[collection]
    props, required = _property_schemas(collection)
    role_of = roles(collection)
    id_queryable = queryables(collection)["id"]
    properties: dict[str, Any] = {
        "id": {
            "title": "id",
            "description": id_queryable.description,
            "type": "string",
            "readOnly": True,
            "x-ogc-role": "id",
        },
        "geometry": {
            "title": "geometry",
            "format": geometry_format(collection),
            "x-ogc-role": "primary-geometry",
        },
    }
    for name, prop in props.items():
        node: dict[str, Any] = {"title": name, **prop}
        if name in role_of and name not in properties:
            node["x-ogc-role"] = role_of[name]
        properties[name] = node
    for seq, node in enumerate(properties.values(), start=1):
        node["x-ogc-propertySeq"] = seq
    return {
        "$schema": JSON_SCHEMA_2020_12,
        "$id": f"{base}/collections/{collection}/schema",
        "type": "object",
        "title": info.title,
        "description": info.description,
        "properties": properties,
        "required": ["id", *required],
        "additionalProperties": False,
    }
