"""A store written by the previous version (nested lists, three-digit kommunekoder in the
public features) gets today's flat features on the upgrade path: the first open (SQLite) or
`init` (DynamoDB), with everything else kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from chalicelib.domain.privacy import public_business
from chalicelib.store import FeatureQuery, open_store
from chalicelib.store.sqlite import SCHEMA_VERSION
from tests.factories import business, network


def _old_shape(feature: dict) -> bytes:
    """A feature as the previous version rendered it."""
    p = dict(feature["properties"])
    p["municipality"] = p["municipality"][-3:]
    p["networks"] = [n for n in p["networks"].split("|") if n]
    return orjson.dumps({**feature, "properties": p})


def _expected(cvr: str, nets: str) -> dict:
    f = public_business(business(cvr))
    assert f is not None
    return {**f["properties"], "networks": nets}


def test_sqlite_schema_2_is_rerendered_on_first_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = open_store(f"sqlite:///{path}")
    store.upsert_businesses([business("10000004"), business("10000012")])
    store.upsert_networks([network(members=["10000004"])])
    store.close()
    with sqlite3.connect(path) as db:  # as the previous version left it
        for cvr, feature in db.execute("SELECT cvr, feature FROM businesses").fetchall():
            db.execute(
                "UPDATE businesses SET feature = ? WHERE cvr = ?",
                (_old_shape(orjson.loads(feature)), cvr),
            )
        db.execute("PRAGMA user_version = 2")

    upgraded = open_store(f"sqlite:///{path}")
    p = orjson.loads(upgraded.get_feature("businesses", "10000004") or b"{}")["properties"]
    assert p["municipality"] == "0376" and p["networks"] == "test-net"
    for key in ("name", "industry_code", "founded", "address"):
        assert p[key] == _expected("10000004", "test-net")[key]
    assert [orjson.loads(f)["id"] for f in upgraded.query("businesses", FeatureQuery()).features]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    upgraded.close()


@pytest.mark.usefixtures("aws_env")
def test_dynamodb_init_rerenders_an_older_table() -> None:
    store = open_store("dynamodb://feature-upgrade")
    assert store.create_table() is True
    store.upsert_businesses([business("10000004"), business("20000012")])
    store.upsert_networks([network(members=["20000012"])])
    client, table = store.client, store.table  # type: ignore[attr-defined]
    for cvr in ("10000004", "20000012"):  # as the previous version left them
        key = {"pk": {"S": f"BIZ#{cvr}"}, "sk": {"S": "BIZ"}}
        item = client.get_item(TableName=table, Key=key)["Item"]
        old = _old_shape(orjson.loads(item["feature"]["S"])).decode()
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET feature = :f",
            ExpressionAttributeValues={":f": {"S": old}},
        )
    client.delete_item(TableName=table, Key={"pk": {"S": "META"}, "sk": {"S": "SHAPE"}})

    assert store.create_table() is False  # `mikrokort init` on the existing table
    p = orjson.loads(store.get_feature("businesses", "20000012") or b"{}")["properties"]
    assert p["municipality"] == "0376" and p["networks"] == "test-net"
    q = FeatureQuery(municipality="376")
    assert sorted(orjson.loads(f)["id"] for f in store.query("businesses", q).features) == [
        "10000004",
        "20000012",
    ]
    assert store.upgrade_features() == 0  # marked: a second init rewrites nothing
