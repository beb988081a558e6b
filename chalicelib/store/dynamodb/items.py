"""How documents become DynamoDB items and back: attribute values and the business item.

Pure functions, no boto3: every module of the adapter encodes and decodes the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.text import search_fold
from chalicelib.store.dynamodb.keys import LEVELS, business_pk, strip_pk, strip_row, strip_sk
from chalicelib.store.shared import content_digest

if TYPE_CHECKING:
    from chalicelib.domain.models import Business


def attr_s(v: str) -> dict[str, str]:
    return {"S": v}


def attr_b(doc: dict[str, Any]) -> dict[str, bytes]:
    return {"B": orjson.dumps(doc)}


def attr_n(v: float | int) -> dict[str, str]:
    return {"N": repr(v) if isinstance(v, float) else str(v)}


MIRRORED = ("status",)  # record fields also kept as attributes, for conditions on them


def record_item(kind: str, key: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The item of an operational record: its JSON document, and the fields that conditional
    writes test (a record's `status`) as attributes of their own."""
    item: dict[str, Any] = {"pk": attr_s(f"REC#{kind}"), "sk": attr_s(key), "doc": attr_b(doc)}
    for name in MIRRORED:
        if isinstance(doc.get(name), str):
            item[f"r_{name}"] = attr_s(doc[name])
    return item


def stored_state(item: dict[str, Any] | None) -> tuple[int, str] | None:
    """The (version, content digest) of a stored document item, None when absent."""
    return (int(item["version"]["N"]), item["content_hash"]["S"]) if item else None


def business_item(b: Business, version: int) -> dict[str, Any]:
    """The DynamoDB item of a business: private document, curation, and while visible its
    public feature and index attributes."""
    from chalicelib.domain.privacy import public_business

    item: dict[str, Any] = {
        "pk": attr_s(business_pk(b.id)),
        "sk": attr_s("BIZ"),
        "cvr": attr_s(b.id),
        "version": attr_n(version),
        "content_hash": attr_s(content_digest(b)),
        "doc": {"B": b.model_dump_json(exclude={"curated", "networks"}).encode()},
        "curated": attr_s(b.curated.model_dump_json()),
        "hidden": {"BOOL": not b.public},
    }
    if b.networks:
        item["nets"] = {"SS": sorted(b.networks)}
    feature = public_business(b)
    if feature is None:
        return item
    item["feature"] = attr_s(orjson.dumps(feature).decode())
    item["st"] = attr_s(b.status)
    item["name_fold"] = attr_s(search_fold(b.name))
    item["apk"], item["ask"] = attr_s(f"BIZ#{b.id[0]}"), attr_s(b.id)
    for attr, value in (
        ("municipality", b.municipality),
        ("industry_code", b.industry_code),
        ("section", b.industry_section),
        ("founded", b.founded.isoformat() if b.founded else None),
        ("ceased", b.ceased.isoformat() if b.ceased else None),
    ):
        if value is not None:
            item[attr] = attr_s(value)
    if b.municipality:
        item["mpk"], item["msk"] = attr_s(b.municipality), attr_s(b.id)
    if b.industry_code:
        item["ipk"] = attr_s(f"SEC#{b.industry_section or '-'}")
        item["isk"] = attr_s(f"{b.industry_code}#{b.id}")
    if feature["geometry"] is not None:
        lon, lat = feature["geometry"]["coordinates"]
        item["lon"], item["lat"] = attr_n(float(lon)), attr_n(float(lat))
        for lv in range(LEVELS):
            item[f"s{lv}pk"] = attr_s(strip_pk(lv, strip_row(lat, lv)))
            item[f"s{lv}sk"] = attr_s(strip_sk(lon, b.id))
    return item


def business_from(item: dict[str, Any]) -> Business:
    """A Business from an item holding `doc`, `curated` and `nets`."""
    from chalicelib.domain.models import Business, Curation

    return Business.model_validate_json(item["doc"]["B"]).model_copy(
        update={
            "curated": Curation.model_validate_json(item["curated"]["S"]),
            "networks": sorted(item.get("nets", {}).get("SS", [])),
        }
    )


def keep_people_fields(b: Business, fresh: dict[str, Any]) -> Business:
    from chalicelib.domain.models import Curation

    return b.model_copy(
        update={
            "curated": Curation.model_validate_json(fresh["curated"]["S"]),
            "networks": sorted(fresh.get("nets", {}).get("SS", [])),
        }
    )
