"""Operational records (job state, run reports, quarantine, geocoding cache, counters): one
partition per kind, listed by key (boto3 BatchWriteItem, BatchGetItem, Query, and
TransactWriteItems for records and counters that move together, through `Connection._call`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import Conflict, StoreUnavailable
from chalicelib.store.dynamodb.connection import BATCH_GET, Connection, backoff
from chalicelib.store.dynamodb.items import MIRRORED, attr_n, attr_s, record_item
from chalicelib.store.port import LimitReached
from chalicelib.store.shared import counter_value

if TYPE_CHECKING:
    from chalicelib.store.port import Counter

MAX_TRANSACTION = 100  # operations in one TransactWriteItems


def _doc(item: dict[str, Any]) -> dict[str, Any]:
    """A record's document; a counter (a number attribute, moved by UpdateItem) reads as
    {"n": value}."""
    if "doc" in item:
        return orjson.loads(item["doc"]["B"])
    return {"n": int(item["n"]["N"])} if "n" in item else {}


class Records(Connection):
    """put, get, list and delete records of a kind."""

    def put_records(self, kind: str, records: dict[str, dict[str, Any]]) -> None:
        self._batch_write(
            [{"PutRequest": {"Item": record_item(kind, k, v)}} for k, v in records.items()]
        )

    def get_records(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"pk": attr_s(f"REC#{kind}"), "sk": attr_s(k)}
                        for k in keys[i : i + BATCH_GET]
                    ]
                }
            }
            for attempt in range(12):
                resp = self._call("batch_get_item", RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    out[item["sk"]["S"]] = _doc(item)
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                backoff(attempt)
            else:
                raise StoreUnavailable("DynamoDB kept returning unprocessed keys; try again later")
        return out

    def list_records(
        self, kind: str, *, limit: int = 100, newest_first: bool = False
    ) -> list[tuple[str, dict[str, Any]]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": attr_s(f"REC#{kind}")},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        out: list[tuple[str, dict[str, Any]]] = []
        while len(out) < limit:
            resp = self._call("query", **kwargs)
            out += [(i["sk"]["S"], _doc(i)) for i in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            kwargs["Limit"] = limit - len(out)
        return out[:limit]

    def delete_records(self, kind: str, keys: Iterable[str]) -> None:
        self._batch_write(
            [
                {"DeleteRequest": {"Key": {"pk": attr_s(f"REC#{kind}"), "sk": attr_s(k)}}}
                for k in dict.fromkeys(keys)
            ]
        )

    def write_records(
        self,
        puts: dict[str, dict[str, dict[str, Any]]] | None = None,
        *,
        deletes: dict[str, list[str]] | None = None,
        counters: Iterable[Counter] = (),
        expect: tuple[str, str, str, Any] | None = None,
    ) -> None:
        """One TransactWriteItems: each counter an UpdateItem conditioned on its cap, each
        record a Put or Delete, the `expect`ed record's condition on its own write. A cap or
        an expectation that fails cancels everything; a conflicting transaction is retried."""
        counters = list(counters)
        ops: list[dict[str, Any]] = []
        for c in counters:
            ops.append({"Update": self._counter_update(c)})
        expected_key = None
        if expect is not None:
            kind, key, name, value = expect
            if name not in MIRRORED:
                raise ValueError(f"conditions can test only {', '.join(MIRRORED)}")
            expected_key = (kind, key)
            condition = {
                "ConditionExpression": "#f = :f",
                "ExpressionAttributeNames": {"#f": f"r_{name}"},
                "ExpressionAttributeValues": {":f": attr_s(value)},
            }
        for kind, records in (puts or {}).items():
            for key, doc in records.items():
                put: dict[str, Any] = {"TableName": self.table, "Item": record_item(kind, key, doc)}
                if (kind, key) == expected_key:
                    put.update(condition)
                    expected_key = None
                ops.append({"Put": put})
        for kind, keys in (deletes or {}).items():
            for key in dict.fromkeys(keys):
                delete: dict[str, Any] = {
                    "TableName": self.table,
                    "Key": {"pk": attr_s(f"REC#{kind}"), "sk": attr_s(key)},
                }
                if (kind, key) == expected_key:
                    delete.update(condition)
                    expected_key = None
                ops.append({"Delete": delete})
        if expected_key is not None:  # a condition on a record this call does not write
            ops.append(
                {
                    "ConditionCheck": {
                        "TableName": self.table,
                        "Key": {
                            "pk": attr_s(f"REC#{expected_key[0]}"),
                            "sk": attr_s(expected_key[1]),
                        },
                        **condition,
                    }
                }
            )
        if not ops:
            return
        if len(ops) > MAX_TRANSACTION:
            raise ValueError(f"at most {MAX_TRANSACTION} records and counters at once")
        for attempt in range(8):
            failed = self._write_together(ops)
            if failed is None:
                return
            if failed >= len(counters):
                raise Conflict(f"{expect[0]} {expect[1]} is no longer {expect[2]}={expect[3]}")  # type: ignore[index]
            if failed >= 0:
                raise LimitReached(counters[failed])
            backoff(attempt)
        raise StoreUnavailable("records are being changed by others; try again")

    def _counter_update(self, c: Counter) -> dict[str, Any]:
        """UpdateItem of one counter: starts from its seed when absent; with a cap, conditioned
        on the value leaving room for the change."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"pk": attr_s(f"REC#{c.kind}"), "sk": attr_s(c.key)},
            "UpdateExpression": "SET n = if_not_exists(n, :seed) + :d",
            "ExpressionAttributeValues": {":seed": attr_n(c.seed), ":d": attr_n(c.delta)},
        }
        if c.cap is not None and c.delta > 0:
            try:
                counter_value(c, None)
                seed_fits = True
            except LimitReached:  # an absent counter would start past its cap
                seed_fits = False
            condition = "n <= :room"
            update["ConditionExpression"] = (
                f"attribute_not_exists(n) OR {condition}" if seed_fits else condition
            )
            update["ExpressionAttributeValues"][":room"] = attr_n(c.cap - c.delta)
        return update
