"""The OpenAPI 3.0 document: every route, parameter and error response, self-contained.

Each collection has its own literal paths, so each one lists exactly the filters it accepts and
the schema of its features; generic clients and test tools read them without guessing. The
schemas of feature properties and of request bodies are generated from the pydantic models that
build and validate them, so the document cannot drift from what the service does.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from chalicelib.curation.selfregistration import NetworkSubmission
from chalicelib.domain.crs import SUPPORTED_CRS
from chalicelib.domain.geo import CRS84
from chalicelib.domain.models import Curation, MunicipalityContact, Network
from chalicelib.domain.public import (
    GeoJsonPoint,
    PublicBusinessProperties,
    PublicMunicipalityProperties,
    PublicNetworkProperties,
)
from chalicelib.features.collections import COLLECTION_INFO
from chalicelib.features.documents import (
    CSV,
    GEOJSON,
    JSON,
    JSONFG,
    MVT,
    OPENAPI_JSON,
    SCHEMA_JSON,
)
from chalicelib.web.params import ITEM_FORMATS, LIMIT_DEFAULT, LIMIT_MAX


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


_STR = {"type": "string"}
_NSTR = _nullable(_STR)
# a count of businesses in all and per industry section (the map data's `tiled`)
_COUNTS: dict[str, Any] = {
    "count": {"type": "integer", "minimum": 0},
    "section_counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
}


class _NoFieldTitles(GenerateJsonSchema):
    """Titles derived from field names ("Industry Code") only repeat the property names."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


_DEFS = "#/$defs/"
_NULL = {"type": "null"}
_UNSUPPORTED = ("prefixItems", "$defs", "if", "not", "patternProperties", "propertyNames")


class _Converter:
    """JSON Schema 2020-12 from pydantic, rewritten as OpenAPI 3.0 Schema Objects.

    `anyOf [X, null]` becomes X with `nullable: true` (and null in its `enum`, if any); a
    nullable reference is inlined, since OpenAPI 3.0.3 lets `nullable` act only beside a
    `type`. `const` becomes a one-value `enum`, numeric `exclusiveMinimum`/`exclusiveMaximum`
    the 3.0 boolean form. Other references point into `components/schemas` under the names
    given; titles go. In responses, objects are left open (`additionalProperties: false`
    dropped), since derived outputs such as search results add properties to the same features.
    """

    def __init__(self, defs: dict[str, Any], names: dict[str, str], response: bool) -> None:
        self.defs, self.names, self.response = defs, names, response
        self.used: set[str] = set()

    def ref(self, target: str) -> dict[str, Any]:
        name = target.removeprefix(_DEFS)
        self.used.add(name)
        return _ref("schemas", self.names.get(name, name))

    def schema(self, node: dict[str, Any]) -> dict[str, Any]:
        if [k for k in _UNSUPPORTED if k in node] or isinstance(node.get("type"), list):
            raise ValueError(f"no OpenAPI 3.0 form for {node}")
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title":
                continue
            if key == "$ref":
                out["allOf"] = [self.ref(value)]  # 3.0 ignores keywords beside a $ref
            elif key == "anyOf" and _NULL in value:
                out.update(self.nullable([v for v in value if v != _NULL]))
            elif key in ("anyOf", "oneOf", "allOf"):
                out[key] = [self.schema(v) for v in value]
            elif key == "properties":
                out[key] = {name: self.schema(v) for name, v in value.items()}
            elif key == "items" or (key == "additionalProperties" and isinstance(value, dict)):
                out[key] = self.schema(value)
            elif key == "additionalProperties" and value is False and self.response:
                continue
            elif key == "const":
                out["enum"] = [value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum"):
                out[key.replace("exclusiveM", "m")], out[key] = value, True
            else:
                out[key] = value
        if set(out) == {"allOf"} and len(out["allOf"]) == 1:
            return out["allOf"][0]
        return out

    def nullable(self, options: list[dict[str, Any]]) -> dict[str, Any]:
        if len(options) != 1:
            raise ValueError(f"no OpenAPI 3.0 form for a nullable union of {options}")
        (option,) = options
        if "$ref" in option:
            option = self.defs[option["$ref"].removeprefix(_DEFS)]
        schema = self.schema(option)
        if "type" not in schema:
            raise ValueError(f"nullable needs a type in OpenAPI 3.0: {schema}")
        if "enum" in schema:  # an enum still restricts a nullable value: null is listed
            schema["enum"] = [*schema["enum"], None]
        return {**schema, "nullable": True}


def model_schemas(models: dict[str, type[BaseModel]], mode: JsonSchemaMode) -> dict[str, Any]:
    """Component schemas of pydantic models by component name, with every model they refer to.

    `mode` is "validation" for request bodies (what the service accepts) and "serialization"
    for responses (what it sends).
    """
    names = {model.__name__: name for name, model in models.items()}
    _, top = models_json_schema(
        [(model, mode) for model in models.values()],
        ref_template=_DEFS + "{model}",
        schema_generator=_NoFieldTitles,
    )
    defs: dict[str, Any] = top.get("$defs", {})
    convert = _Converter(defs, names, response=mode == "serialization")
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}  # component name -> the pydantic definition behind it
    pending = [model.__name__ for model in models.values()]
    while pending:
        name = pending.pop()
        target = names.get(name, name)
        if origin.setdefault(target, name) != name:
            raise ValueError(f"{origin[target]} and {name} would both be schema {target}")
        if target not in out:
            out[target] = convert.schema(defs[name])
            pending += sorted(convert.used - set(origin.values()))
    return out


def _generated_schemas() -> dict[str, Any]:
    """Feature properties (what is sent) and request bodies (what is accepted), by name."""
    responses = model_schemas(
        {
            "Point": GeoJsonPoint,
            "BusinessProperties": PublicBusinessProperties,
            "NetworkProperties": PublicNetworkProperties,
            "MunicipalityProperties": PublicMunicipalityProperties,
        },
        "serialization",
    )
    bodies = model_schemas(
        {
            "NetworkBody": Network,
            "Curation": Curation,
            "MunicipalityContact": MunicipalityContact,
            "NetworkSubmission": NetworkSubmission,
        },
        "validation",
    )
    if clash := set(responses) & set(bodies):
        raise ValueError(f"schemas generated twice under one name: {sorted(clash)}")
    return {**responses, **bodies}


_PARAMETERS: dict[str, dict[str, Any]] = {
    "bbox": {
        "name": "bbox",
        "in": "query",
        "required": False,
        "description": "Only features whose geometry intersects the box: minimum longitude, "
        "minimum latitude, maximum longitude, maximum latitude (CRS84 unless `bbox-crs` says "
        "otherwise). Six numbers (with heights) are accepted; heights are ignored.",
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "style": "form",
        "explode": False,
    },
    "bbox-crs": {
        "name": "bbox-crs",
        "in": "query",
        "required": False,
        "description": "The coordinate reference system of `bbox` (EPSG:4326 is latitude first).",
        "schema": {
            "type": "string",
            "format": "uri",
            "enum": list(SUPPORTED_CRS),
            "default": CRS84,
        },
        "style": "form",
        "explode": False,
    },
    "crs": {
        "name": "crs",
        "in": "query",
        "required": False,
        "description": "The coordinate reference system of the returned geometries.",
        "schema": {
            "type": "string",
            "format": "uri",
            "enum": list(SUPPORTED_CRS),
            "default": CRS84,
        },
        "style": "form",
        "explode": False,
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"The most features to return in one page. Values above {LIMIT_MAX} are "
        "treated as the maximum.",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": LIMIT_MAX,
            "default": LIMIT_DEFAULT,
        },
        "style": "form",
        "explode": False,
    },
    "datetime": {
        "name": "datetime",
        "in": "query",
        "required": False,
        "description": "An RFC 3339 date or date-time, or an interval `start/end` where either "
        "end may be `..` or empty (open). A business's temporal property is its founding date "
        "(`founded`, one day long): it is selected when it was founded on a day the instant or "
        "interval touches, ends included (`2020-01-01/..` = founded on or after 1 January "
        "2020). Businesses active at a time: use `filter`, e.g. `founded <= DATE('2020-01-01') "
        "AND (ceased IS NULL OR ceased > DATE('2020-01-01'))`. Other collections have no "
        "temporal property: there it selects everything.",
        "schema": {"type": "string"},
        "style": "form",
        "explode": False,
    },
    "filter": {
        "name": "filter",
        "in": "query",
        "required": False,
        "description": "A CQL2 filter on the collection's queryables (see its `queryables` "
        "link), in the language `filter-lang` names: e.g. `founded >= DATE('2020-01-01') AND "
        "municipality IN ('0376','0390')`, `industry_code LIKE '4332%'`, "
        "`S_INTERSECTS(geometry, BBOX(11.8,54.7,12.0,54.8))`.",
        "schema": {"type": "string", "maxLength": 20000},
        "style": "form",
        "explode": False,
    },
    "filter-lang": {
        "name": "filter-lang",
        "in": "query",
        "required": False,
        "description": "The language of `filter`: CQL2 text (the default), CQL2 JSON, or the "
        "draft CQL text some clients send (GDAL).",
        "schema": {
            "type": "string",
            "enum": ["cql2-text", "cql2-json", "cql-text"],
            "default": "cql2-text",
        },
        "style": "form",
        "explode": False,
    },
    "filter-crs": {
        "name": "filter-crs",
        "in": "query",
        "required": False,
        "description": "The CRS of the filter's geometries: CRS84 (longitude, latitude).",
        "schema": {"type": "string", "format": "uri", "enum": [CRS84], "default": CRS84},
        "style": "form",
        "explode": False,
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "An opaque paging position. Do not build it: follow the `next` link.",
        "schema": {"type": "string", "maxLength": 400},
        "style": "form",
        "explode": False,
    },
    "f": {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The response format; overrides the Accept header.",
        "schema": {"type": "string", "enum": ["json", "geojson"]},
        "style": "form",
        "explode": False,
    },
    "page-f": {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The response format; overrides the Accept header: JSON (`json`), or "
        "an HTML page for people (`html`, which a browser's Accept also selects).",
        "schema": {"type": "string", "enum": ["json", "geojson", "html"]},
        "style": "form",
        "explode": False,
    },
    "snapshots-f": {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The response format: JSON, or a page for people (html); overrides Accept.",
        "schema": {"type": "string", "enum": ["json", "html"]},
        "style": "form",
        "explode": False,
    },
    "page-lang": {
        "name": "lang",
        "in": "query",
        "required": False,
        "description": "The language of the HTML page (without it: the browser's "
        "Accept-Language, else Danish). JSON answers are the same in both.",
        "schema": {"type": "string", "enum": ["da", "en"]},
        "style": "form",
        "explode": False,
    },
    "items-f": {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The response format; overrides the Accept header: GeoJSON (`json`, "
        "`geojson`), JSON-FG 1.0 (`jsonfg`, `application/vnd.ogc.fg+json`) or CSV (`csv`, "
        "`text/csv`: a column per property, the geometry as WKT; the links in a `Link` "
        "header).",
        "schema": {"type": "string", "enum": list(ITEM_FORMATS)},
        "style": "form",
        "explode": False,
    },
    "skipGeometry": {
        "name": "skipGeometry",
        "in": "query",
        "required": False,
        "description": "`true`: the features come without their geometry (null; an empty WKT "
        "column in CSV).",
        "schema": {"type": "boolean", "default": False},
        "style": "form",
        "explode": False,
    },
    "municipality": {
        "name": "municipality",
        "in": "query",
        "required": False,
        "description": "A kommunekode, e.g. 376 (Guldborgsund) or 390 (Vordingborg).",
        "schema": {"type": "string", "pattern": "^0?[0-9]{3}$"},
        "style": "form",
        "explode": False,
    },
    "industry": {
        "name": "industry",
        "in": "query",
        "required": False,
        "description": "A DB07 section letter (A-U), or the first 2 to 6 digits of a DB07/DB25 "
        "industry code (e.g. 43 or 433200).",
        "schema": {"type": "string", "pattern": "^([A-Ua-u]|[0-9]{2,6})$"},
        "style": "form",
        "explode": False,
    },
    "network": {
        "name": "network",
        "in": "query",
        "required": False,
        "description": "Only members of the network with this id.",
        "schema": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 80},
        "style": "form",
        "explode": False,
    },
    "status": {
        "name": "status",
        "in": "query",
        "required": False,
        "description": "active or ceased.",
        "schema": {"type": "string", "enum": ["active", "ceased"]},
        "style": "form",
        "explode": False,
    },
    "q": {
        "name": "q",
        "in": "query",
        "required": False,
        "description": "Case-insensitive text that the name must contain.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
        "style": "form",
        "explode": False,
    },
    "featureId": {
        "name": "featureId",
        "in": "path",
        "required": True,
        "description": "The id of a feature (a CVR number, a network id, a kommunekode).",
        "schema": {"type": "string"},
    },
    "kommunekode": {
        "name": "kommunekode",
        "in": "path",
        "required": True,
        "description": "A municipality this service covers, by kommunekode (e.g. 376).",
        "schema": {"type": "string", "pattern": "^0?[0-9]{3}$"},
        "example": "376",
    },
    "map-kommunekode": {
        "name": "kommunekode",
        "in": "path",
        "required": True,
        "description": "A municipality this service covers, by kommunekode (e.g. 376), or `all`: "
        "every municipality it covers as one map (always drawn from the tiles).",
        "schema": {"type": "string", "pattern": "^(0?[0-9]{3}|all)$"},
        "example": "376",
    },
    "since": {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "Businesses registered (founded) on or after this date; default: the "
        "last 30 days.",
        "schema": {"type": "string", "format": "date"},
        "style": "form",
        "explode": False,
    },
    "feed-limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "The most businesses in one page (larger values are clamped to 1000).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "style": "form",
        "explode": False,
    },
    "feed-f": {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The response format (GeoJSON, an Atom feed, or a page for people: "
        "html); overrides Accept.",
        "schema": {"type": "string", "enum": ["json", "geojson", "atom", "html"]},
        "style": "form",
        "explode": False,
    },
    "map-f": {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The response format: JSON only; overrides Accept.",
        "schema": {"type": "string", "enum": ["json"]},
        "style": "form",
        "explode": False,
    },
    "year": {
        "name": "year",
        "in": "path",
        "required": True,
        "description": "A year, four digits.",
        "schema": {"type": "string", "pattern": "^[0-9]{4}$"},
    },
    **{
        f"basemap-{name}": {
            "name": name,
            "in": "path",
            "required": True,
            "description": text,
            "schema": {"type": "string", "pattern": pattern},
        }
        for name, text, pattern in (
            ("z", "Zoom, 5 to 18.", "^[0-9]{1,2}$"),
            ("x", "Column of the tile (WebMercatorQuad).", "^[0-9]{1,6}$"),
            ("y", "Row of the tile, with .png.", "^[0-9]{1,6}(\\.png)?$"),
        )
    },
    "places-q": {
        "name": "q",
        "in": "query",
        "required": True,
        "description": "A town, a postcode or an address, 2 to 100 characters.",
        "schema": {"type": "string", "minLength": 2, "maxLength": 100},
    },
    "places-municipality": {
        "name": "municipality",
        "in": "query",
        "required": False,
        "description": "Only places in this municipality (kommunekode).",
        "schema": {"type": "string", "pattern": "^[0-9]{3,4}$"},
    },
    "places-limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "At most this many places (1 to 20, default 8).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 20},
    },
    "sitemap-name": {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "A sitemap file, as the index /sitemap.xml lists it: pages.xml, or "
        "businesses-{kommunekode}-{n}.xml.",
        "schema": {"type": "string", "pattern": "^(pages|businesses-[0-9]{3}-[0-9]{1,4})\\.xml$"},
    },
    "file-name": {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "A file of the snapshot, as listed by /snapshots.",
        "schema": {"type": "string"},
    },
    "revision": {
        "name": "revision",
        "in": "query",
        "required": False,
        "description": "A later revision of a published year (default: the first).",
        "schema": {"type": "integer", "minimum": 1},
        "style": "form",
        "explode": False,
    },
    "barometer-f": {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The figures (json) or the press release (html, md); overrides Accept.",
        "schema": {"type": "string", "enum": ["json", "html", "md"]},
        "style": "form",
        "explode": False,
    },
    "barometer-municipality": {
        "name": "municipality",
        "in": "query",
        "required": False,
        "description": "The release (or figures) for these municipalities only: a kommunekode, "
        "or several separated by commas for one joint release; each must be covered.",
        "schema": {"type": "string", "maxLength": 200},
        "style": "form",
        "explode": False,
    },
    "search-industry": {
        "name": "industry",
        "in": "query",
        "required": False,
        "description": "DB07 sections or code prefixes, comma-separated (F, 4332, F,4776).",
        "schema": {"type": "string", "maxLength": 200},
        "style": "form",
        "explode": False,
    },
    "search-q": {
        "name": "q",
        "in": "query",
        "required": False,
        "description": "Words over name and industry text; Danish spellings folded (aa/å, oe/ø).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
        "style": "form",
        "explode": False,
    },
    "point": {
        "name": "point",
        "in": "query",
        "required": False,
        "description": "lon,lat (WGS84, inside Denmark): results sorted by distance.",
        "schema": {"type": "string", "pattern": "^-?[0-9.]+,-?[0-9.]+$"},
        "style": "form",
        "explode": False,
    },
    "radius": {
        "name": "radius",
        "in": "query",
        "required": False,
        "description": "Kilometres around point (search: default 10, max 100; matches: 15, 50).",
        "schema": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 100},
        "style": "form",
        "explode": False,
    },
    "search-municipality": {
        "name": "municipality",
        "in": "query",
        "required": False,
        "description": "A kommunekode (376 or 0376).",
        "schema": {"type": "string", "pattern": "^0?[0-9]{3}$"},
        "style": "form",
        "explode": False,
    },
    "size": {
        "name": "size",
        "in": "query",
        "required": False,
        "description": "Size groups of employees, comma-separated (0, 1, 2-4, 5-9, 10-19, "
        "20-49, 50-99, 100-199, 200-499, 500-999, 1000+); `micro` for 0-9 employees (0, 1, "
        "2-4, 5-9); `unknown` for businesses without a size group (the register has no "
        "employment figure for them, mostly as nobody but the owner works there). The map's "
        "micro-businesses are `micro,unknown`.",
        "schema": {"type": "string", "maxLength": 100},
        "style": "form",
        "explode": False,
    },
    "search-limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Results per page (1-100, default 20; matches: 1-50, default 10).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        "style": "form",
        "explode": False,
    },
    "business-id": {
        "name": "business_id",
        "in": "path",
        "required": True,
        "description": "A CVR number.",
        "schema": {"type": "string"},
    },
    "embed-kommunekode": {
        "name": "kommunekode",
        "in": "path",
        "required": True,
        "description": "A municipality this service covers, by kommunekode (e.g. 376), or `all`.",
        "schema": {"type": "string"},
        "example": "376",
    },
    "embed-lang": {
        "name": "lang",
        "in": "query",
        "required": False,
        "description": "The page's and the map's language.",
        "schema": {"type": "string", "enum": ["da", "en"], "default": "da"},
    },
    "embed-industry": {
        "name": "industry",
        "in": "query",
        "required": False,
        "description": "Start with one DB07 section (a letter, e.g. F).",
        "schema": {"type": "string", "pattern": "^[A-Ua-u]$"},
    },
    "embed-network": {
        "name": "network",
        "in": "query",
        "required": False,
        "description": "Start with one network's members, by its id.",
        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,79}$"},
    },
    "embed-search": {
        "name": "search",
        "in": "query",
        "required": False,
        "description": "Start with a name search.",
        "schema": {"type": "string", "maxLength": 100},
    },
    "embed-height": {
        "name": "height",
        "in": "query",
        "required": False,
        "description": "The map's height (default: the frame's): 480, 480px, 80vh, 30rem.",
        "schema": {"type": "string", "pattern": "^[0-9]{2,4}(px|vh|rem)?$"},
    },
    "embed-heading-level": {
        "name": "heading-level",
        "in": "query",
        "required": False,
        "description": "The level (2-6) of the headings inside the map.",
        "schema": {"type": "string", "enum": ["2", "3", "4", "5", "6"]},
    },
    "oembed-url": {
        "name": "url",
        "in": "query",
        "required": True,
        "description": "The address of an embed page of this service (`/embed/{kommunekode}`).",
        "schema": {"type": "string"},
    },
    "oembed-format": {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "`json`, the only format served.",
        "schema": {"type": "string", "enum": ["json"], "default": "json"},
    },
    "maxwidth": {
        "name": "maxwidth",
        "in": "query",
        "required": False,
        "description": "The widest embed the consumer can show, in pixels.",
        "schema": {"type": "integer", "minimum": 200, "maximum": 4000},
    },
    "maxheight": {
        "name": "maxheight",
        "in": "query",
        "required": False,
        "description": "The tallest embed the consumer can show, in pixels.",
        "schema": {"type": "integer", "minimum": 200, "maximum": 4000},
    },
    "lang": {
        "name": "lang",
        "in": "query",
        "required": False,
        "description": "The language of the Atom feed's texts.",
        "schema": {"type": "string", "enum": ["da", "en"], "default": "da"},
        "style": "form",
        "explode": False,
    },
}

_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": _STR,
        "rel": _STR,
        "type": _STR,
        "title": _STR,
        "hreflang": _STR,
        "length": {"type": "integer"},
    },
}

_POLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["Polygon"]},
        "coordinates": {
            "type": "array",
            "items": {
                "type": "array",
                "minItems": 4,
                "items": {"type": "array", "minItems": 2, "items": {"type": "number"}},
            },
        },
    },
}
_MULTIPOLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["MultiPolygon"]},
        "coordinates": {
            "type": "array",
            "items": {
                "type": "array",
                "items": {
                    "type": "array",
                    "minItems": 4,
                    "items": {"type": "array", "minItems": 2, "items": {"type": "number"}},
                },
            },
        },
    },
}

_GENERATED = _generated_schemas()
# A feature carries every property, unless `properties` chose some: none is required.
for _name in ("BusinessProperties", "NetworkProperties", "MunicipalityProperties"):
    _GENERATED[_name].pop("required", None)
_NULLABLE_POINT = {**_GENERATED["Point"], "nullable": True}  # 3.0.3: `nullable` needs a `type`


def _feature_schema(properties: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "geometry", "properties", "id"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": _STR,
            "geometry": geometry,
            "properties": _ref("schemas", properties),
            "links": {"type": "array", "items": _ref("schemas", "Link")},
        },
    }


def _collection_schema(feature: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("schemas", feature)},
            "links": {"type": "array", "items": _ref("schemas", "Link")},
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    }


_SCHEMAS: dict[str, Any] = {
    "Link": _LINK,
    "Exception": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {
            "code": _STR,
            "description": _STR,
            "parameter": {"type": "string", "description": "The parameter at fault, if any."},
        },
    },
    "LandingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {
            "title": _STR,
            "description": _STR,
            "attribution": _STR,
            "links": {"type": "array", "items": _ref("schemas", "Link")},
        },
    },
    "ConfClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": _STR}},
    },
    "Extent": {
        "type": "object",
        "properties": {
            "spatial": {
                "type": "object",
                "properties": {
                    "bbox": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "array",
                            "minItems": 4,
                            "maxItems": 6,
                            "items": {"type": "number"},
                        },
                    },
                    "crs": _STR,
                },
            },
            "temporal": {
                "type": "object",
                "properties": {
                    "interval": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "minItems": 2,
                            "maxItems": 2,
                            "items": _nullable({"type": "string", "format": "date-time"}),
                        },
                    },
                    "trs": _STR,
                },
            },
        },
    },
    "Collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": _STR,
            "title": _STR,
            "description": _STR,
            "links": {"type": "array", "items": _ref("schemas", "Link")},
            "extent": _ref("schemas", "Extent"),
            "itemType": _STR,
            "crs": {"type": "array", "items": _STR},
            "storageCrs": _STR,
        },
    },
    "Collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": {"type": "array", "items": _ref("schemas", "Link")},
            "collections": {"type": "array", "items": _ref("schemas", "Collection")},
        },
    },
    "Polygon": _POLYGON,
    "MultiPolygon": _MULTIPOLYGON,
    "Business": _feature_schema("BusinessProperties", _NULLABLE_POINT),
    "Network": _feature_schema(  # its area; no geometry where it has none
        "NetworkProperties",
        {
            "oneOf": [
                _ref("schemas", "Polygon"),
                _ref("schemas", "MultiPolygon"),
                {"type": "object", "nullable": True, "enum": [None]},  # 3.0's null
            ]
        },
    ),
    "NetworkMeetingPlace": _feature_schema("NetworkProperties", _NULLABLE_POINT),
    "Municipality": _feature_schema(  # no geometry only with skipGeometry
        "MunicipalityProperties",
        {
            "oneOf": [
                _ref("schemas", "Polygon"),
                _ref("schemas", "MultiPolygon"),
                {"type": "object", "nullable": True, "enum": [None]},
            ]
        },
    ),
    "NearbyNetwork": {
        "type": "object",
        "required": ["id", "name", "distance_km", "within_area"],
        "properties": {
            "id": _STR,
            "name": _STR,
            "distance_km": {
                "type": "number",
                "minimum": 0,
                "description": "Kilometres to where the network meets (also from inside its "
                "area); 0 inside the area of a network without a meeting place.",
            },
            "within_area": {"type": "boolean"},
            "meeting_place_name": _NSTR,
            "website": _NSTR,
            "email": _NSTR,
            "phone": _NSTR,
            "score": {"type": "number", "description": "The welcome rule's score (docs/API.md)."},
            "reasons": {"type": "array", "items": _ref("schemas", "Reason")},
        },
    },
    "NewBusiness": {
        "allOf": [
            _ref("schemas", "Business"),
            {
                "type": "object",
                "properties": {
                    "properties": {
                        "type": "object",
                        "required": ["nearest_networks", "marketing_allowed"],
                        "properties": {
                            "nearest_networks": {
                                "type": "array",
                                "items": _ref("schemas", "NearbyNetwork"),
                            },
                            "marketing_allowed": {"type": "boolean"},
                        },
                    }
                },
            },
        ]
    },
    "NewBusinesses": {
        "type": "object",
        "required": ["type", "features", "municipality", "since"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "municipality": {
                "type": "object",
                "properties": {"kommunekode": _STR, "name": _STR},
            },
            "since": {"type": "string", "format": "date"},
            "features": {"type": "array", "items": _ref("schemas", "NewBusiness")},
            "links": {"type": "array", "items": _ref("schemas", "Link")},
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
    "Snapshots": {
        "type": "object",
        "required": ["snapshots"],
        "properties": {
            "latest": _nullable(
                {
                    "type": "object",
                    "properties": {
                        "year": {"type": "integer"},
                        "revision": {"type": "integer"},
                        "prefix": _STR,
                        "published": _STR,
                    },
                }
            ),
            "snapshots": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["year", "revision", "files"],
                    "properties": {
                        "year": {"type": "integer"},
                        "revision": {"type": "integer", "minimum": 1},
                        "as_of": {"type": "string", "format": "date"},
                        "published": {"type": "string", "format": "date-time"},
                        "files": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "url", "size", "sha256"],
                                "properties": {
                                    "name": _STR,
                                    "url": {"type": "string", "format": "uri"},
                                    "size": {"type": "integer", "minimum": 0},
                                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                    "media_type": _STR,
                                },
                            },
                        },
                    },
                },
            },
            "links": {"type": "array", "items": _ref("schemas", "Link")},
        },
    },
    "Barometer": {
        "type": "object",
        "required": ["year", "as_of", "parameters", "total", "municipalities"],
        "properties": {
            "year": {"type": "integer"},
            "as_of": {"type": "string", "format": "date"},
            "published": {"type": "boolean"},
            "micro_definition": _STR,
            "parameters": {"type": "object"},
            "notes": {"type": "object"},
            "total": {"type": "object"},
            "municipalities": {"type": "object", "additionalProperties": {"type": "object"}},
        },
    },
    "MapNetwork": {
        "type": "object",
        "required": ["id", "name", "member_count"],
        "properties": {
            "id": _STR,
            "name": _STR,
            "description": _NSTR,
            "website": _NSTR,
            "email": _NSTR,
            "phone": _NSTR,
            "meeting_place": _nullable(
                {
                    "type": "array",
                    "description": "Where the marker goes: longitude, latitude (the meeting "
                    "place, else a point inside the area).",
                    "minItems": 2,
                    "maxItems": 2,
                    "items": {"type": "number"},
                }
            ),
            "meeting_place_name": _NSTR,
            "area": _nullable(
                {
                    "description": "The network's area, simplified for drawing.",
                    "oneOf": [_ref("schemas", "Polygon"), _ref("schemas", "MultiPolygon")],
                }
            ),
            "tags": {"type": "array", "items": _STR},
            "member_count": {"type": "integer", "minimum": 0},
        },
    },
    "OEmbed": {
        "type": "object",
        "description": "An oEmbed 1.0 `rich` response: the iframe of the map's embed page.",
        "required": ["version", "type", "html", "width", "height"],
        "properties": {
            "version": {"type": "string", "enum": ["1.0"]},
            "type": {"type": "string", "enum": ["rich"]},
            "title": _STR,
            "provider_name": _STR,
            "provider_url": _STR,
            "html": _STR,
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "cache_age": {"type": "integer"},
        },
    },
    "MapData": {
        "type": "object",
        "description": "Everything one map widget shows for a municipality, compact: the "
        "active public businesses as rows (columns named by `fields`), the networks working "
        "there, and the boundary. Built from the public features only: the privacy rules apply "
        "as in /collections (no street address where it is withheld, coarsened points, no "
        "contact details of businesses).",
        "required": ["version", "municipality", "fields", "businesses", "networks"],
        "properties": {
            "version": {"type": "integer", "enum": [1]},
            "municipality": {
                "type": "object",
                "required": ["kommunekode", "name", "boundary"],
                "properties": {
                    "kommunekode": _STR,
                    "name": _STR,
                    "contact": _nullable({"type": "object"}),
                    "boundary": {
                        "oneOf": [_ref("schemas", "Polygon"), _ref("schemas", "MultiPolygon")]
                    },
                },
            },
            "fields": {
                "type": "array",
                "description": "The columns of a business row: id (CVR number), lon, lat "
                "(CRS84, 5 decimals), industry (index into `industries`), name, employees "
                "(size group), address (null when withheld), postcode (key of `postcodes`), "
                "precision (address, grid or postcode), networks (indexes into `networks`).",
                "items": _STR,
            },
            "businesses": {
                "type": "array",
                "items": {
                    "type": "array",
                    "items": {},
                },
            },
            "industries": {
                "type": "array",
                "description": "DB07 code, section letter, Danish text.",
                "items": {"type": "array", "items": _NSTR, "minItems": 3, "maxItems": 3},
            },
            "sections": {
                "type": "object",
                "description": "Names of the DB07 sections present, in Danish and English.",
                "additionalProperties": {"type": "array", "items": _STR},
            },
            "postcodes": {"type": "object", "additionalProperties": _STR},
            "networks": {"type": "array", "items": _ref("schemas", "MapNetwork")},
            "tiles": {
                "type": "object",
                "description": "The operator's tile source for widgets that name none.",
                "properties": {"url": _STR, "attribution": _STR},
            },
            "tiled": _nullable(
                {
                    "type": "object",
                    "description": "Set for a municipality of more active businesses than the "
                    "service sends as rows (10,000 by default): `businesses` is then empty and "
                    "the widget draws the map from /collections/businesses/tiles and lists from "
                    "/collections/businesses/items of the same municipality. The counts here "
                    "are of its active public businesses, in all and per industry section "
                    "(`unknown` where the section is not known), and so for each size choice "
                    "of `sizes`.",
                    "required": ["count", "section_counts", "sizes"],
                    "properties": {
                        **_COUNTS,
                        "sizes": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "required": ["count", "section_counts"],
                                "properties": _COUNTS,
                            },
                        },
                    },
                }
            ),
            "sizes": {
                "type": "object",
                "description": "The widget's size choices and their size groups (null: "
                "businesses without a size group): `micro` (0-9 employees, or none in the "
                "register; the widget's default) and `larger` (10 or more).",
                "additionalProperties": {"type": "array", "items": _NSTR},
            },
            "attribution": _STR,
        },
    },
    "Reason": {
        "type": "object",
        "required": ["da", "en"],
        "properties": {"da": _STR, "en": _STR},
    },
    "SearchResults": {
        "type": "object",
        "required": ["type", "features", "numberMatched", "numberReturned"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "sortedBy": {"type": "string", "enum": ["distance", "relevance"]},
            "links": {"type": "array", "items": _ref("schemas", "Link")},
            "features": {"type": "array", "items": _ref("schemas", "Business")},
        },
    },
    "Matches": {
        "type": "object",
        "required": ["business", "businesses", "networks"],
        "properties": {
            "business": {"type": "object"},
            "radius_km": {"type": "number"},
            "method": _STR,
            "businesses": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {
                        "type": "array",
                        "items": {
                            "allOf": [
                                _ref("schemas", "Business"),
                                {
                                    "type": "object",
                                    "required": ["reasons"],
                                    "properties": {
                                        "reasons": {
                                            "type": "array",
                                            "items": _ref("schemas", "Reason"),
                                        }
                                    },
                                },
                            ]
                        },
                    },
                },
            },
            "networks": {
                "type": "array",
                "items": {
                    "allOf": [
                        _ref("schemas", "NearbyNetwork"),
                        {
                            "type": "object",
                            "required": ["score", "reasons"],
                            "properties": {
                                "score": {"type": "number"},
                                "reasons": {"type": "array", "items": _ref("schemas", "Reason")},
                            },
                        },
                    ]
                },
            },
        },
    },
    "Businesses": _collection_schema("Business"),
    "Networks": _collection_schema("Network"),
    "NetworkMeetingPlaces": _collection_schema("NetworkMeetingPlace"),
    "Municipalities": _collection_schema("Municipality"),
}
assert not set(_SCHEMAS) & set(_GENERATED), "a generated schema would replace a written one"
_SCHEMAS.update(_GENERATED)

_FEATURE_SCHEMA = {
    "businesses": ("Business", "Businesses"),
    "networks": ("Network", "Networks"),
    "network-meeting-places": ("NetworkMeetingPlace", "NetworkMeetingPlaces"),
    "municipalities": ("Municipality", "Municipalities"),
}

_CACHE_HEADERS = {
    "ETag": {"description": "Validator for conditional requests.", "schema": _STR},
    "Cache-Control": {"schema": _STR},
}


def _json_response(description: str, schema: str, media: str = JSON) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _CACHE_HEADERS,
        "content": {media: {"schema": _ref("schemas", schema)}},
    }


def _page_response(description: str, schema: str) -> dict[str, Any]:
    """A JSON document that is also an HTML page (OGC API - Features' html class)."""
    response = _json_response(description, schema)
    response["content"]["text/html"] = {"schema": _STR}
    return response


def _error(description: str) -> dict[str, Any]:
    """An error: the OGC exception document, or a page saying the same to a browser (a read
    with `f=html` or an Accept that puts HTML first, chalicelib.web.routing)."""
    return {
        "description": description,
        "content": {
            JSON: {"schema": _ref("schemas", "Exception")},
            "text/html": {"schema": _STR},
        },
    }


_RESPONSES: dict[str, Any] = {
    "InvalidParameter": _error(
        "A query parameter is unknown, repeated or has an invalid value; `parameter` names it."
    ),
    "NotFound": _error("No such collection or feature."),
    "NotAcceptable": _error("None of the media types in the Accept header can be produced."),
    "ServerError": _error("An unexpected error; the body carries no internal detail."),
    "StoreUnavailable": _error("The data store cannot be reached; try again later."),
    "NotModified": {"description": "The representation matches If-None-Match."},
    "Unauthorized": _error("No API key, or an unknown or revoked one."),
    "Forbidden": _error("The API key lacks the scope this operation needs."),
    "Conflict": _error("The resource exists already, or the request was decided already."),
    "PreconditionFailed": _error("If-Match names a version that is no longer current."),
    "PayloadTooLarge": _error("The request body is too large."),
    "UnsupportedMediaType": _error("The body is not in a media type this operation takes."),
    "Unprocessable": _error("The body breaks the rules; `parameter` names the field."),
    "PreconditionRequired": _error("Send If-Match with the ETag last read."),
    "TooManyRequests": _error("Too many requests from this client, or a full queue."),
    "RequestTooLarge": _error("The request line and headers exceed 64 KiB (the server's limit)."),
}


def _errors(*codes: str) -> dict[str, Any]:
    names = {
        "304": "NotModified",
        "400": "InvalidParameter",
        "404": "NotFound",
        "406": "NotAcceptable",
        "429": "TooManyRequests",
        "431": "RequestTooLarge",
        "500": "ServerError",
        "503": "StoreUnavailable",
    }
    return {code: _ref("responses", names[code]) for code in codes}


# Routes limited per client address (chalicelib.routes: `limited=True`; the embedded server
# and the WAF rule on AWS): they may answer 429. A test keeps this list equal to the table.
LIMITED_OPERATIONS = (
    ("/municipalities/{kommunekode}/new-businesses", "get"),
    ("/municipalities/{kommunekode}/map-data", "get"),
    ("/barometer/{year}", "get"),
    ("/search", "get"),
    ("/businesses/{business_id}/matches", "get"),
    ("/networks/register", "post"),
    ("/sitemap.xml", "get"),
    ("/places", "get"),
    ("/sitemaps/{name}", "get"),
)


def _get(op_id: str, summary: str, params: list[str], ok: dict[str, Any], *errs: str) -> dict:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": ["OGC API - Features"],
            "parameters": [_ref("parameters", p) for p in params],
            "responses": {
                "200": ok,
                **_errors("304", "400", *errs, "406", "431", "500", "503"),
            },
        }
    }


def _write(
    method: str,
    op_id: str,
    summary: str,
    params: list[dict[str, Any]],
    ok: dict[str, Any],
    errors: list[str],
    *,
    body: dict[str, Any] | None = None,
    secured: bool = True,
) -> dict[str, Any]:
    """A write or admin operation: API key security, its own error answers."""
    names = {
        "400": "InvalidParameter", "401": "Unauthorized", "403": "Forbidden",
        "404": "NotFound", "409": "Conflict", "412": "PreconditionFailed",
        "413": "PayloadTooLarge", "415": "UnsupportedMediaType", "422": "Unprocessable",
        "428": "PreconditionRequired", "429": "TooManyRequests", "500": "ServerError",
        "503": "StoreUnavailable",
    }  # fmt: skip
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "tags": ["Administration" if secured else "Self-registration"],
        "parameters": params,
        "responses": {
            **ok,
            **{c: _ref("responses", names[c]) for c in [*errors, "400", "500", "503"]},
        },
    }
    if secured:
        op["security"] = [{"apiKey": []}]
        op["responses"].update({c: _ref("responses", names[c]) for c in ("401", "403")})
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return {method: op}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag last read: a write over a changed resource is refused (412).",
    "schema": {"type": "string"},
}
_OBJECT = {"type": "object"}


def _json_ok(code: str, description: str) -> dict[str, Any]:
    return {code: {"description": description, "content": {JSON: {"schema": _OBJECT}}}}


def _write_paths() -> dict[str, Any]:
    net_id = _path_param("network_id", "A network id (slug).")
    cvr = _path_param("cvr", "A CVR number.")
    network_body = _ref("schemas", "NetworkBody")
    html = {"description": "An HTML page", "content": {"text/html": {"schema": _STR}}}
    return {
        "/networks/register": {
            **_write(
                "get",
                "getRegistrationForm",
                "The registration form for a network (HTML)",
                [],
                {"200": html},
                [],
                secured=False,
            ),
            **_write(
                "post",
                "submitNetwork",
                "Submit a network's entry or a change; it waits for moderation",
                [],
                {
                    "202": {
                        "description": "Queued for moderation",
                        "content": {JSON: {"schema": _OBJECT}, "text/html": {"schema": _STR}},
                    }
                },
                ["413", "415", "422", "429"],
                body=_ref("schemas", "NetworkSubmission"),
                secured=False,
            ),
        },
        "/admin/networks": _write(
            "post",
            "createNetwork",
            "Create a network",
            [],
            _json_ok("201", "Created; ETag header"),
            ["409", "413", "415", "422"],
            body=network_body,
        ),
        "/admin/networks/{network_id}": {
            **_write(
                "get",
                "getNetworkForEdit",
                "A network with its ETag",
                [net_id],
                _json_ok("200", "The network"),
                ["404"],
            ),
            **_write(
                "put",
                "replaceNetwork",
                "Replace a network",
                [net_id, _IF_MATCH],
                _json_ok("200", "Replaced"),
                ["404", "412", "413", "415", "422", "428"],
                body=network_body,
            ),
            **_write(
                "delete",
                "deleteNetwork",
                "Delete a network",
                [net_id, _IF_MATCH],
                {"204": {"description": "Deleted"}},
                ["404", "412", "428"],
            ),
        },
        "/admin/networks/{network_id}/members/{cvr}": {
            **_write(
                "put",
                "addMember",
                "Add a member",
                [net_id, cvr],
                _json_ok("200", "The network"),
                ["404", "409"],
            ),
            **_write(
                "delete",
                "removeMember",
                "Remove a member",
                [net_id, cvr],
                _json_ok("200", "The network"),
                ["404", "409"],
            ),
        },
        "/admin/businesses/{cvr}": _write(
            "get",
            "getBusinessForEdit",
            "The full record of a business with its ETag",
            [cvr],
            _json_ok("200", "The business"),
            ["404"],
        ),
        "/admin/businesses/{cvr}/curation": _write(
            "put",
            "curateBusiness",
            "Replace a business's curated fields",
            [cvr, _IF_MATCH],
            _json_ok("200", "The curated fields; ETag header"),
            ["404", "412", "413", "415", "422", "428"],
            body=_ref("schemas", "Curation"),
        ),
        "/admin/municipalities/{code}/contact": _write(
            "put",
            "setMunicipalityContact",
            "Set the municipality's business contact",
            [_path_param("code", "A kommunekode.")],
            _json_ok("200", "The contact"),
            ["404", "413", "415", "422"],
            body=_ref("schemas", "MunicipalityContact"),
        ),
        "/admin/submissions": _write(
            "get",
            "listSubmissions",
            "The moderation queue",
            [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["pending", "approved", "rejected"]},
                }
            ],
            _json_ok("200", "Submissions"),
            [],
        ),
        "/admin/submissions/{submission_id}/approve": _write(
            "post",
            "approveSubmission",
            "Approve a submission",
            [_path_param("submission_id", "A submission id.")],
            _json_ok("200", "Decided"),
            ["404", "409"],
        ),
        "/admin/submissions/{submission_id}/reject": _write(
            "post",
            "rejectSubmission",
            "Reject a submission",
            [_path_param("submission_id", "A submission id.")],
            _json_ok("200", "Decided"),
            ["404", "409"],
        ),
        "/admin/audit": _write(
            "get",
            "getAuditLog",
            "The audit log, newest first",
            [
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                }
            ],
            _json_ok("200", "Entries"),
            [],
        ),
    }


def _feature_schema_names(collection: str) -> tuple[str, str]:
    """The component names of a collection's feature and feature collection schemas; for a
    collection without written ones, generated from its public model (any geometry)."""
    if collection in _FEATURE_SCHEMA:
        return _FEATURE_SCHEMA[collection]
    from chalicelib.features.schemas import property_model

    stem = "".join(part.capitalize() for part in collection.split("-"))
    feature, features, properties = f"{stem}Feature", f"{stem}Features", f"{stem}Properties"
    if feature not in _SCHEMAS:
        generated = model_schemas({properties: property_model(collection)}, "serialization")
        for name, schema in generated.items():
            _SCHEMAS.setdefault(name, schema)
        geometry = {
            "nullable": True,
            "type": "object",
            "oneOf": [_ref("schemas", n) for n in ("Point", "Polygon", "MultiPolygon")],
        }
        _SCHEMAS[feature] = _feature_schema(properties, geometry)
        _SCHEMAS[features] = _collection_schema(feature)
    return feature, features


def _feature_response(description: str, schema: str) -> dict[str, Any]:
    """Features in each format the items and item routes answer in."""
    return {
        "description": description,
        "headers": {
            **_CACHE_HEADERS,
            "Content-Crs": {"description": "The CRS of the geometries.", "schema": _STR},
            "Link": {
                "description": "CSV only: the links of the answer (self, collection, next), "
                "as RFC 8288 writes them.",
                "schema": _STR,
            },
        },
        "content": {
            GEOJSON: {"schema": _ref("schemas", schema)},
            JSON: {"schema": _ref("schemas", schema)},
            JSONFG: {"schema": {"type": "object"}},
            CSV: {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    }


def _properties_parameter(collection: str) -> str:
    """`properties`: the collection's property names a feature keeps (registered once)."""
    from chalicelib.features.schemas import property_names

    key = f"{collection}.properties"
    _PARAMETERS[key] = {
        "name": "properties",
        "in": "query",
        "required": False,
        "description": "Only these properties in each feature, in this order (the CSV columns). "
        "An unknown name is a 400 that lists the properties.",
        "schema": {
            "type": "array",
            "items": {"type": "string", "enum": list(property_names(collection))},
        },
        "style": "form",
        "explode": False,
    }
    return key


def _json_schema_response(description: str) -> dict[str, Any]:
    """A 200 holding a JSON Schema (queryables, sortables, the features' schema), offered as
    `application/schema+json` and as plain JSON, and as a page."""
    return {
        "description": description,
        "content": {
            SCHEMA_JSON: {"schema": {"type": "object"}},
            JSON: {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        },
    }


def _sortby_parameter(collection: str) -> str:
    """`sortby`: up to five sortables, each with an optional + or - (registered once)."""
    from chalicelib.features.sortables import MAX_KEYS, sortables

    names = "|".join(sortables(collection))
    key = f"{collection}.sortby"
    _PARAMETERS[key] = {
        "name": "sortby",
        "in": "query",
        "required": False,
        "description": "The order of the features: sortables (see the collection's `sortables` "
        "link) with + (ascending, the default) or -, e.g. `-founded,name`. Missing values come "
        "last ascending, first descending; ties by id. A selection of more than 20,000 "
        "features cannot be sorted (a 400 asks for a bbox, municipality or filter).",
        "schema": {
            "type": "array",
            "maxItems": MAX_KEYS,
            "items": {"type": "string", "pattern": f"^[+-]?({names})$"},
        },
        "style": "form",
        "explode": False,
    }
    return key


def _property_parameters(collection: str, shortcuts: tuple[str, ...]) -> list[str]:
    """One `?property=value` equality parameter per queryable (Part 1, 7.15.7), registered in
    the components; clients that read the parameters (GDAL) learn the queryables from them."""
    from chalicelib.features.queryables import queryables

    names = []
    for q in queryables(collection).values():
        if q.name in shortcuts or q.name in _PARAMETERS:
            continue
        key = f"{collection}.{q.name}"
        schema: dict[str, Any] = {"type": "string"}
        if q.type in ("date", "date-time"):
            schema["format"] = q.type
        elif q.type in ("integer", "number"):
            schema = {"type": q.type}
        elif q.type == "boolean":
            schema = {"type": "boolean"}
        if q.enum:
            schema["enum"] = list(q.enum)
        _PARAMETERS[key] = {
            "name": q.name,
            "in": "query",
            "required": False,
            "description": f"Only features whose `{q.name}` equals this value. {q.description}",
            "schema": schema,
            "style": "form",
            "explode": False,
        }
        names.append(key)
    return names


_TILE_OPS = {  # collection: (operation name, what a tile of it holds)
    "businesses": (
        "Business",
        "A Mapbox Vector Tile of the businesses selected by the items' filters: points from "
        "zoom 13 where a tile holds at most 500, clusters otherwise, with `count` and counts per "
        "industry section (`n_F`)",
    ),
    "network-meeting-places": (
        "MeetingPlace",
        "A Mapbox Vector Tile of the network meeting places selected by the items' filters: one "
        "point each, at every zoom",
    ),
}


def _tile_paths() -> dict[str, Any]:
    """OGC API - Tiles: the tile matrix sets, and each tiled collection's tilesets and tiles."""
    from chalicelib.features.documents import TILED_COLLECTIONS

    tms = {
        **_path_param("tileMatrixSetId", "The tile matrix set."),
        "schema": {"type": "string", "enum": ["WebMercatorQuad"]},
    }
    position = {"type": "integer", "minimum": 0}
    doc = {"description": "A JSON document", "headers": _CACHE_HEADERS,
           "content": {JSON: {"schema": _OBJECT}}}  # fmt: skip
    paths = {
        "/tileMatrixSets": _get(
            "getTileMatrixSets", "The tile matrix sets of the tiles (WebMercatorQuad)", ["f"], doc
        ),
        "/tileMatrixSets/{tileMatrixSetId}": _get(
            "getTileMatrixSet", "A tile matrix set (OGC 2D Tile Matrix Set JSON)", ["f"], doc, "404"
        ),
    }
    tile_params: dict[str, list[Any]] = {}
    for cid in TILED_COLLECTIONS:
        name, holds = _TILE_OPS[cid]
        filters = COLLECTION_INFO[cid].filters
        tile_params[cid] = [
            {**_path_param("tileMatrix", "The zoom level."), "schema": {**position, "maximum": 20}},
            {**_path_param("tileRow", "The row, 0 at the north, below 2^zoom."),
             "schema": position},
            {**_path_param("tileCol", "The column, 0 at 180° west, below 2^zoom."),
             "schema": position},
            *(
                _ref("parameters", p)
                for p in (
                    "datetime", *filters, "filter", "filter-lang", "filter-crs",
                    *_property_parameters(cid, filters),
                )
            ),
        ]  # fmt: skip
        base = f"/collections/{cid}/tiles"
        title = COLLECTION_INFO[cid].title.lower()
        paths.update(
            {
                base: _get(f"get{name}Tilesets", f"The {title}' tilesets", ["f"], doc),
                base + "/{tileMatrixSetId}": _get(
                    f"get{name}Tileset", f"The {title}' vector tileset in a tile matrix set",
                    ["f"], doc, "404",
                ),
                base + "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": _get(
                    f"get{name}Tile", holds, [],
                    {"description": "The tile", "headers": _CACHE_HEADERS,
                     "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
                    "404",
                ),
            }
        )  # fmt: skip
    for path, op in paths.items():
        op["get"]["tags"] = ["OGC API - Tiles"]
        if "{tileMatrixSetId}" in path:
            cid = path.split("/")[2] if path.startswith("/collections/") else ""
            extra = [tms, *tile_params[cid]] if path.endswith("{tileCol}") else [tms]
            op["get"]["parameters"] = [*extra, *op["get"]["parameters"]]
    return paths


def openapi_document(base: str) -> dict[str, Any]:
    """The API definition served at /api; `base` is the public URL of the service."""
    paths: dict[str, Any] = {
        "/": _get(
            "getLandingPage",
            "Landing page: links to the API definition, conformance and collections",
            ["page-f", "page-lang"],
            _page_response("The landing page", "LandingPage"),
        ),
        "/conformance": _get(
            "getConformance",
            "The conformance classes this service implements",
            ["page-f", "page-lang"],
            _page_response("The conformance declaration", "ConfClasses"),
        ),
        "/api": _get(
            "getApi",
            "This API definition (OpenAPI 3.0, JSON; its operations as a page)",
            ["page-f", "page-lang"],
            {
                "description": "The OpenAPI document",
                "content": {
                    OPENAPI_JSON: {"schema": {"type": "object"}},
                    JSON: {"schema": {}},
                    "text/html": {"schema": _STR},
                },
            },
        ),
        "/collections": _get(
            "getCollections",
            "The feature collections",
            ["page-f", "page-lang"],
            _page_response("The collections", "Collections"),
        ),
    }
    for cid, info in COLLECTION_INFO.items():
        feature, features = _feature_schema_names(cid)
        item_params = [
            "bbox",
            "bbox-crs",
            "datetime",
            "limit",
            "cursor",
            *info.filters,
            "filter",
            "filter-lang",
            "filter-crs",
            "crs",
            _properties_parameter(cid),
            "skipGeometry",
            _sortby_parameter(cid),
            "items-f",
            "page-lang",
            *_property_parameters(cid, info.filters),
        ]
        paths[f"/collections/{cid}"] = _get(
            f"describe_{cid}",
            f"Describe the {info.title.lower()} collection",
            ["page-f", "page-lang"],
            _page_response(info.title, "Collection"),
        )
        items = _get(
            f"get_{cid}",
            f"{info.title}: a page of features, filtered",
            item_params,
            _feature_response(
                "A page of features; `next` links to the following page (in CSV, the `Link` "
                "header holds the links)",
                features,
            ),
        )
        paths[f"/collections/{cid}/items"] = items
        paths[f"/collections/{cid}/queryables"] = _get(
            f"get_{cid}_queryables",
            f"The properties a filter on {info.title.lower()} may name (JSON Schema)",
            ["page-f", "page-lang"],
            _json_schema_response("The queryables"),
        )
        paths[f"/collections/{cid}/sortables"] = _get(
            f"get_{cid}_sortables",
            f"The properties sortby on {info.title.lower()} may name (JSON Schema)",
            ["page-f", "page-lang"],
            _json_schema_response("The sortables"),
        )
        paths[f"/collections/{cid}/schema"] = _get(
            f"get_{cid}_schema",
            f"The schema of the {info.title.lower()} features: id, geometry and every property "
            "with its type and role (JSON Schema 2020-12, OGC API - Features - Part 5)",
            ["page-f", "page-lang"],
            {**_json_schema_response("The schema"), "headers": _CACHE_HEADERS},
        )
        one = _get(
            f"get_{cid}_feature",
            f"One feature of {info.title.lower()}",
            [
                "featureId",
                "crs",
                _properties_parameter(cid),
                "skipGeometry",
                "items-f",
                "page-lang",
            ],
            _feature_response("The feature", feature),
            "404",
        )
        paths[f"/collections/{cid}/items/{{featureId}}"] = one
    feed = _get(
        "getNewBusinesses",
        "The welcome feed: businesses newly registered in a municipality, each with the "
        "networks nearest to it; `reklamebeskyttet` ones are flagged (no marketing contact)",
        ["kommunekode", "since", "feed-limit", "cursor", "feed-f", "lang"],
        _json_response("New businesses, newest first", "NewBusinesses", GEOJSON),
        "404",
    )
    feed["get"]["tags"] = ["Welcome feed"]
    feed["get"]["responses"]["200"]["content"][JSON] = {"schema": _ref("schemas", "NewBusinesses")}
    feed["get"]["responses"]["200"]["content"]["application/atom+xml"] = {
        "schema": {"type": "string"}
    }
    feed["get"]["responses"]["200"]["content"]["text/html"] = {"schema": _STR}
    paths["/municipalities/{kommunekode}/new-businesses"] = feed
    map_data = _get(
        "getMapData",
        "The map widget's data for a municipality in one cacheable response: active public "
        "businesses as compact rows, networks, the boundary",
        ["map-kommunekode", "map-f"],
        _json_response("The map data", "MapData"),
        "404",
    )
    map_data["get"]["tags"] = ["Map widget"]
    paths["/municipalities/{kommunekode}/map-data"] = map_data
    embed = _get(
        "getEmbedPage",
        "The map alone on a page for an iframe on any site, with the widget's options; a wrong "
        "option or municipality is an HTML page (400, 404) that says what is wrong",
        ["embed-kommunekode", "embed-lang", "embed-industry", "embed-network", "embed-search",
         "embed-height", "embed-heading-level"],
        {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
    )  # fmt: skip
    embed["get"]["tags"] = ["Map widget"]
    page = {"content": {"text/html": {"schema": {"type": "string"}}}}
    embed["get"]["responses"]["400"] = {"description": "A wrong option", **page}
    embed["get"]["responses"]["404"] = {"description": "No map for this municipality", **page}
    paths["/embed/{kommunekode}"] = embed
    oembed_op = _get(
        "getOEmbed",
        "oEmbed 1.0: the `rich` embed (an iframe) of an embed page of this service; 404 for any "
        "other URL",
        ["oembed-url", "oembed-format", "maxwidth", "maxheight"],
        _json_response("The oEmbed response", "OEmbed"),
        "404",
    )
    oembed_op["get"]["tags"] = ["Map widget"]
    paths["/oembed"] = oembed_op
    place_op = _get(
        "getPlaces",
        "Places to go to on the map: towns (postcode districts) by name or number, and, with a "
        "geocoder configured, addresses (Gsearch); GeoJSON points, best first; `complete` is "
        "false when the address service could not answer",
        ["places-q", "places-municipality", "places-limit"],
        {"description": "The places", "content": {GEOJSON: {"schema": _OBJECT}}},
    )
    place_op["get"]["tags"] = ["Map widget"]
    paths["/places"] = place_op
    basemap = _get(
        "getBaseMapTile",
        "A Danish base map tile (Web Mercator, 256 px PNG) drawn by the configured WMS of "
        "Dataforsyningen, the token kept on the server; Denmark and zooms 5 to 18 only; 404 "
        "when no base map is configured",
        ["basemap-z", "basemap-x", "basemap-y"],
        {"description": "The tile", "content": {"image/png": {"schema": _STR}}},
        "404",
    )
    basemap["get"]["responses"]["502"] = {
        "description": "The base map service gave no tile (refused, unreachable, an error)",
        "content": {JSON: {"schema": _ref("schemas", "Exception")}},
    }
    basemap["get"]["tags"] = ["Map widget"]
    paths["/basemap/{z}/{x}/{y}"] = basemap
    for path, op_id, summary, media, params in (
        ("/robots.txt", "getRobots", "For crawlers: the admin API is not theirs; the sitemap",
         "text/plain", []),
        ("/sitemap.xml", "getSitemapIndex", "The sitemap index (sitemaps.org 0.9): the site's "
         "pages and the active businesses of each municipality, in files", "application/xml", []),
        ("/sitemaps/{name}", "getSitemap", "One sitemap file: the site's pages, or up to "
         "40,000 business pages", "application/xml", ["sitemap-name"]),
    ):  # fmt: skip
        op = _get(
            op_id,
            summary,
            params,
            {"description": summary, "content": {media: {"schema": _STR}}},
            "404",
        )
        op["get"]["tags"] = ["Pages"]
        paths[path] = op
    listing = _get(
        "getSnapshots",
        "The published yearly open-data snapshots: files, URLs, sizes and SHA-256 checksums",
        ["snapshots-f", "page-lang"],
        _json_response("Published years, oldest first", "Snapshots"),
    )
    listing["get"]["responses"]["200"]["content"]["text/html"] = {"schema": _STR}
    listing["get"]["tags"] = ["Open data"]
    paths["/snapshots"] = listing
    one_file = _get(
        "getSnapshotFile",
        "One file of a published snapshot (on S3 a redirect to the object)",
        ["year", "file-name", "revision"],
        {"description": "The file", "content": {"*/*": {"schema": {"type": "string"}}}},
        "404",
    )
    one_file["get"]["tags"] = ["Open data"]
    one_file["get"]["responses"]["302"] = {"description": "The file's public URL (S3)"}
    paths["/snapshots/{year}/{name}"] = one_file
    dcat_catalog = _get(
        "getCatalog",
        "The DCAT-AP-DK 2.0.2 catalogue of the published snapshots (JSON-LD): every year and "
        "revision with its files, and this API as a data service, for data portals to harvest",
        [],
        {
            "description": "The catalogue",
            "headers": _CACHE_HEADERS,
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        },
        "404",
    )
    dcat_catalog["get"]["tags"] = ["Open data"]
    paths["/catalog"] = dcat_catalog
    baro = _get(
        "getBarometer",
        "The barometer of a year (published, or computed from the current data until it is): "
        "figures as JSON, or the press release as HTML or Markdown, in Danish or English",
        ["year", "barometer-f", "lang", "barometer-municipality"],
        _json_response("The barometer", "Barometer"),
        "404",
    )
    baro["get"]["tags"] = ["Open data"]
    baro["get"]["responses"]["200"]["content"]["text/html"] = {"schema": {"type": "string"}}
    baro["get"]["responses"]["200"]["content"]["text/markdown"] = {"schema": {"type": "string"}}
    paths["/barometer/{year}"] = baro
    search_op = _get(
        "searchBusinesses",
        "Supplier search: active businesses by industry, words, place and size, nearest first "
        "(or most relevant without a point); give a point, a municipality or an industry",
        ["search-industry", "search-q", "point", "radius", "search-municipality", "size",
         "search-limit", "cursor", "f"],
        _json_response("Ranked businesses", "SearchResults", GEOJSON),
    )  # fmt: skip
    search_op["get"]["tags"] = ["Matchmaking"]
    search_op["get"]["responses"]["200"]["content"][JSON] = {
        "schema": _ref("schemas", "SearchResults")
    }
    paths["/search"] = search_op
    match_op = _get(
        "getMatches",
        "Businesses a business should know and networks it could join, with reasons",
        ["business-id", "radius", "search-limit"],
        _json_response("Suggestions with scores and reasons (Danish and English)", "Matches"),
        "404",
    )
    match_op["get"]["tags"] = ["Matchmaking"]
    paths["/businesses/{business_id}/matches"] = match_op
    paths.update(_tile_paths())
    paths.update(_write_paths())
    for path, method in LIMITED_OPERATIONS:
        paths[path][method]["responses"].update(_errors("429"))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Mikrokort",
            "version": "1.0.0",
            "description": (
                "Micro-businesses and business networks of Danish municipalities, as an OGC API "
                "- Features service (Part 1 Core with GeoJSON and OpenAPI 3.0; Part 2 CRS with "
                "CRS84 and EPSG:4326). Errors are JSON documents with `code`, `description` and, "
                "for a bad query parameter, `parameter`."
            ),
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": base or "/"}],
        "tags": [
            {"name": "OGC API - Features"},
            {"name": "OGC API - Tiles", "description": "The businesses as vector tiles"},
            {"name": "Welcome feed", "description": "Newly registered businesses to welcome"},
            {"name": "Map widget", "description": "Data for the embeddable map (docs/WIDGET.md)"},
            {"name": "Open data", "description": "Yearly snapshots and the barometer"},
            {"name": "Pages", "description": "For search engines: robots.txt and the sitemaps"},
            {"name": "Matchmaking", "description": "Supplier search and who should know whom"},
            {"name": "Administration", "description": "Curation with API keys (X-API-Key)"},
            {"name": "Self-registration", "description": "Networks submit their entries"},
        ],
        "paths": paths,
        "components": {
            "parameters": _PARAMETERS,
            "schemas": _SCHEMAS,
            "responses": _RESPONSES,
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }
