"""The OpenAPI document with its generated schemas: valid OpenAPI 3.0, and true to the models
that build the public features and validate the request bodies."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec
from pydantic import BaseModel

from chalicelib.curation.selfregistration import NetworkSubmission
from chalicelib.domain.models import Curation, Municipality, MunicipalityContact, Network, Point
from chalicelib.domain.privacy import public_business, public_municipality, public_network
from chalicelib.domain.public import (
    GeoJsonPoint,
    PublicBusinessProperties,
    PublicMunicipalityProperties,
    PublicNetworkProperties,
)
from chalicelib.features.openapi import model_schemas, openapi_document
from tests.factories import business, network, personal

DOC = openapi_document("http://example.test")
SCHEMAS = DOC["components"]["schemas"]
GENERATED: dict[str, type[BaseModel]] = {
    "Point": GeoJsonPoint,
    "BusinessProperties": PublicBusinessProperties,
    "NetworkProperties": PublicNetworkProperties,
    "MunicipalityProperties": PublicMunicipalityProperties,
    "NetworkBody": Network,
    "Curation": Curation,
    "MunicipalityContact": MunicipalityContact,
    "NetworkSubmission": NetworkSubmission,
}
BODIES = {
    ("/admin/networks", "post"): "NetworkBody",
    ("/admin/networks/{network_id}", "put"): "NetworkBody",
    ("/admin/businesses/{cvr}/curation", "put"): "Curation",
    ("/admin/municipalities/{code}/contact", "put"): "MunicipalityContact",
    ("/networks/register", "post"): "NetworkSubmission",
}
SQUARE = [[[11.8, 54.7], [11.9, 54.7], [11.9, 54.8], [11.8, 54.8], [11.8, 54.7]]]


def _errors(instance: Any, schema_name: str) -> list[str]:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOC["components"]}
    return [e.message for e in OAS30Validator(schema).iter_errors(instance)]


def _walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *[n for v in node.values() for n in _walk(v)]]
    if isinstance(node, list):
        return [n for v in node for n in _walk(v)]
    return []


def test_the_document_is_valid_openapi_3_0() -> None:
    validate_spec(DOC)
    assert DOC["openapi"].startswith("3.0.")


def test_generated_schemas_use_only_openapi_3_0_keywords() -> None:
    for name in GENERATED:
        for node in _walk(SCHEMAS[name]):
            assert not {"$defs", "const", "prefixItems"} & set(node), (name, node)
            assert node.get("type") != "null" and not isinstance(node.get("type"), list)
            assert all(sub != {"type": "null"} for sub in node.get("anyOf", [])), (name, node)
            if node.get("nullable"):
                assert "type" in node, (name, node)  # 3.0.3: nullable acts beside a type
            if "$ref" in node:
                assert set(node) == {"$ref"}, (name, node)
                assert node["$ref"].removeprefix("#/components/schemas/") in SCHEMAS


def test_every_ref_in_the_document_resolves() -> None:
    for node in _walk(DOC):
        ref = node.get("$ref")
        if isinstance(ref, str):
            target: Any = DOC
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]


@pytest.mark.parametrize("name", list(GENERATED))
def test_schema_properties_are_the_model_fields(name: str) -> None:
    model = GENERATED[name]
    assert list(SCHEMAS[name]["properties"]) == list(model.model_fields)


def test_public_properties_list_every_field_and_require_none() -> None:
    """Every public feature carries every property (null where the rules withhold it) unless
    `properties=` chose some: the schema lists them all and requires none."""
    for name in ("BusinessProperties", "NetworkProperties", "MunicipalityProperties"):
        assert list(SCHEMAS[name]["properties"]) == list(GENERATED[name].model_fields)
        assert "required" not in SCHEMAS[name]
        assert "additionalProperties" not in SCHEMAS[name]  # search and feed add properties


def test_request_bodies_refer_to_the_models_that_validate_them() -> None:
    for (path, method), name in BODIES.items():
        body = DOC["paths"][path][method]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}"
        }
    assert SCHEMAS["Curation"]["additionalProperties"] is False  # the model forbids extras
    assert SCHEMAS["NetworkSubmission"]["additionalProperties"] is False


def test_public_features_match_their_documented_schemas() -> None:
    features = [
        public_business(business()),
        public_business(personal()),
        public_business(business("10000020", location=None, address=None, postcode=None)),
        public_business(business("10000039", status="ceased", ceased=business().founded)),
    ]
    assert features[2] is not None and features[2]["geometry"] is None
    for f in features:
        assert _errors(f, "Business") == []
    n = network(members=["10000004"], area={"type": "Polygon", "coordinates": SQUARE})
    assert _errors(public_network(n, ["10000004"]), "Network") == []
    assert _errors(public_network(network(), []), "Network") == []
    m = Municipality(kommunekode="376", name="Guldborgsund", boundary={
        "type": "Polygon", "coordinates": SQUARE})  # fmt: skip
    assert _errors(public_municipality(m), "Municipality") == []
    contact = MunicipalityContact(name="Erhverv", phone="+45 54 73 10 00")
    with_contact = m.model_copy(update={"business_contact": contact})
    assert _errors(public_municipality(with_contact), "Municipality") == []


def test_demo_businesses_match_the_schema() -> None:
    from chalicelib.demo.generate import generate_businesses

    for b in generate_businesses(400):
        f = public_business(b)
        assert f is None or _errors(f, "Business") == [], b.id


def test_the_schema_refuses_what_the_privacy_rules_never_send() -> None:
    f = public_business(business())
    assert f is not None
    assert _errors({**f, "properties": {**f["properties"], "employees": "7"}}, "Business")
    assert _errors({**f, "properties": {**f["properties"], "status": "gone"}}, "Business")
    # a property left out is allowed: `properties=` chooses which ones a feature carries
    missing = {k: v for k, v in f["properties"].items() if k != "address"}
    assert not _errors({**f, "properties": missing}, "Business")


def test_valid_bodies_pass_both_the_model_and_the_schema() -> None:
    net = network(area={"type": "Polygon", "coordinates": SQUARE}).model_dump(mode="json")
    curation = Curation(show_address=True, location=Point(lon=11.87, lat=54.77))
    submission = {
        "name": "Erhvervsnetværket",
        "meeting_place_lon": 11.87,
        "meeting_place_lat": 54.77,
        "submitter_name": "Anne",
        "submitter_email": "anne@example.dk",
    }
    cases = [
        (net, "NetworkBody", Network),
        (curation.model_dump(mode="json"), "Curation", Curation),
        ({"name": "Erhverv", "email": None}, "MunicipalityContact", MunicipalityContact),
        (submission, "NetworkSubmission", NetworkSubmission),
    ]
    for body, name, model in cases:
        model.model_validate(body)
        assert _errors(body, name) == [], name


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"show_address": True, "unknown": 1}, "Curation"),
        ({"name": "Net", "id": "Not A Slug"}, "NetworkBody"),
        ({"name": "Net"}, "NetworkBody"),
        ({"email": "a@b.dk"}, "MunicipalityContact"),
        ({"name": "Net", "submitter_name": "Anne"}, "NetworkSubmission"),
    ],
)
def test_bodies_the_models_refuse_break_the_schema(body: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError):
        GENERATED[name].model_validate(body)
    assert _errors(body, name)


class _Meeting(BaseModel):
    place: Point  # the lon/lat Point, not the GeoJSON one


def test_a_clash_of_generated_names_is_refused() -> None:
    with pytest.raises(ValueError, match="both be schema Point"):
        model_schemas({"Point": GeoJsonPoint, "Meeting": _Meeting}, "validation")


def test_every_limited_route_documents_its_429() -> None:
    import re

    from chalicelib.features.openapi import LIMITED_OPERATIONS, openapi_document
    from chalicelib.routes import ROUTES

    def shape(path: str) -> str:  # the names of path parameters may differ
        return re.sub(r"\{\w+\}", "{}", path)

    limited = {(shape(r.path), r.method.lower()) for r in ROUTES if r.limited}
    assert {(shape(p), m) for p, m in LIMITED_OPERATIONS} == limited
    doc = openapi_document("http://x")
    for path, method in LIMITED_OPERATIONS:
        assert "429" in doc["paths"][path][method]["responses"], (path, method)
