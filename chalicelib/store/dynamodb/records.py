"""Operational records (job state, run reports, quarantine, geocoding cache): one partition per
kind, listed by key (boto3 BatchWriteItem, BatchGetItem, Query through `Connection._call`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from chalicelib.domain.errors import StoreUnavailable
from chalicelib.store.dynamodb.connection import BATCH_GET, Connection, backoff
from chalicelib.store.dynamodb.items import attr_b, attr_s


class Records(Connection):
    """put, get, list and delete records of a kind."""

    def put_records(self, kind: str, records: dict[str, dict[str, Any]]) -> None:
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": {"pk": attr_s(f"REC#{kind}"), "sk": attr_s(k), "doc": attr_b(v)}
                    }
                }
                for k, v in records.items()
            ]
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
                    out[item["sk"]["S"]] = orjson.loads(item["doc"]["B"])
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
            out += [(i["sk"]["S"], orjson.loads(i["doc"]["B"])) for i in resp["Items"]]
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
