"""The client and the calls every part of the adapter makes: errors mapped, batches retried,
writes that must land together sent as one TransactWriteItems."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from typing import Any

from chalicelib.domain.errors import StoreUnavailable
from chalicelib.store.dynamodb.items import attr_s
from chalicelib.store.dynamodb.keys import business_pk
from chalicelib.store.shared import StoreBase

BATCH_GET = 100
BATCH_WRITE = 25


def backoff(attempt: int) -> None:
    """Exponential backoff with full jitter: 50 ms, 100 ms, ... up to 5 s."""
    time.sleep(random.uniform(0, min(5.0, 0.05 * 2**attempt)))


class Connection(StoreBase):
    """One table through boto3 (the same code runs in Lambda)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "dynamodb",
                config=Config(
                    # throttling and 5xx are retried with backoff, never surfaced at once
                    retries={
                        "max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS", "10")),
                        "mode": "adaptive",
                    },
                    connect_timeout=5,
                    read_timeout=30,
                ),
            )
        self.client = client
        self.calls: Counter[str] = Counter()  # operations, items scanned/returned (benchmarks)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            NoRegionError,
        )

        self.calls[operation] += 1
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise StoreUnavailable(
                    f"DynamoDB table '{self.table}' does not exist: create it with `mikrokort init`"
                ) from None
            raise
        except EndpointConnectionError:
            raise StoreUnavailable(
                f"cannot reach DynamoDB at {self.client.meta.endpoint_url}"
            ) from None
        except (NoCredentialsError, NoRegionError) as exc:
            raise StoreUnavailable(f"DynamoDB is not configured: {exc}") from None

    def close(self) -> None:
        pass

    def _batch_get(
        self, cvrs: list[str], projection: str, *, consistent: bool = False
    ) -> list[dict[str, Any]]:
        """Business items by CVR number; `consistent` for the reads a write is conditioned on
        (an eventually consistent copy would only make the condition fail and retry)."""
        attrs = [a.strip() for a in projection.split(",")]
        names = {f"#a{i}": a for i, a in enumerate(attrs)}  # sidesteps reserved words
        request: dict[str, Any] = {
            self.table: {
                "Keys": [{"pk": attr_s(business_pk(c)), "sk": attr_s("BIZ")} for c in cvrs],
                "ProjectionExpression": ", ".join(names),
                "ExpressionAttributeNames": names,
                "ConsistentRead": consistent,
            }
        }
        items: list[dict[str, Any]] = []
        for attempt in range(12):
            resp = self._call("batch_get_item", RequestItems=request)
            items += resp["Responses"].get(self.table, [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                return items
            backoff(attempt)
        raise StoreUnavailable("DynamoDB kept returning unprocessed keys; try again later")

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem in groups of 25, retrying unprocessed items with backoff and jitter."""
        for i in range(0, len(requests), BATCH_WRITE):
            request = {self.table: requests[i : i + BATCH_WRITE]}
            for attempt in range(12):
                resp = self._call("batch_write_item", RequestItems=request)
                request = resp.get("UnprocessedItems") or {}
                if not request:
                    break
                backoff(attempt)
            else:
                raise StoreUnavailable("DynamoDB kept returning unprocessed items; try again")

    def _write_together(self, ops: list[dict[str, Any]]) -> int | None:
        """Send writes that must land together: one alone as its own call, several as one
        TransactWriteItems (all or nothing). Returns None when written, the index of the first
        operation whose condition failed, or -1 when a concurrent transaction got in the way
        (the caller re-reads and tries again)."""
        from botocore.exceptions import ClientError

        try:
            if len(ops) == 1:
                [(kind, args)] = ops[0].items()
                if kind == "Put":
                    self._call("put_item", **args)
                elif kind == "Update":
                    self._call("update_item", **args)
                else:
                    self._call("delete_item", **args)
            else:
                self._call("transact_write_items", TransactItems=ops)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                return 0
            if code == "TransactionCanceledException":
                return _failed_condition(exc.response)
            if code == "TransactionConflictException":
                return -1
            raise
        return None

    def _meta(self, name: str) -> dict[str, Any] | None:
        return self._call(
            "get_item", TableName=self.table, Key={"pk": attr_s("META"), "sk": attr_s(name)}
        ).get("Item")

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": attr_s(pk)},
        }
        while True:
            resp = self._call("query", **kwargs)
            items += resp["Items"]
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _failed_condition(response: dict[str, Any]) -> int:
    """The index of the first operation of a cancelled transaction whose condition failed;
    -1 when it was cancelled by a conflicting transaction instead."""
    reasons = response.get("CancellationReasons")
    if reasons is None:  # some servers give the reasons only in the message
        message = response.get("Error", {}).get("Message", "")
        listed = message.rpartition("[")[2].rstrip("]").split(",")
        reasons = [{"Code": r.strip()} for r in listed]
    codes = [r.get("Code") for r in reasons]
    if "ConditionalCheckFailed" in codes:
        return codes.index("ConditionalCheckFailed")
    if any(c in ("TransactionConflict", "ThrottlingError") for c in codes):
        return -1
    raise StoreUnavailable(f"DynamoDB cancelled a transaction: {', '.join(map(str, codes))}")
