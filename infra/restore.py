"""Copy a restored table's items back into the stage's table: the last step of a restore.

    python -m infra.restore --from mikrokort-prod-restored --to mikrokort-prod [--exact] --yes

Point-in-time recovery restores into a new table (DynamoDB cannot restore over a table or
rename one), and the stack, its functions and their policies know the stage's table by its
name. So after `aws dynamodb restore-table-to-point-in-time` and a check of the restored table
(docs/OPERATIONS.md, "Gendannelse / Restore drill"), this copies every item back. With
`--exact` it first deletes the items the restored table does not have (those written after
the restore point), so the table equals the restored one; the next refresh then reads the
register's changes since the restored checkpoint again.

Runs with the operator's AWS credentials (it Scans, which no function of the app may), not
in Lambda. Writes cost what a full load costs: each item and its index entries once.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from typing import Any

BATCH = 25  # BatchWriteItem's limit


class RestoreError(Exception):
    """A refusal with a one-line reason."""


def _keys(client: Any, table: str) -> list[str]:
    try:
        schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
    except client.exceptions.ResourceNotFoundException:
        raise RestoreError(f"no table {table!r} in this account and region") from None
    return [k["AttributeName"] for k in schema]


def _scan(client: Any, table: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("scan").paginate(
        TableName=table, ConsistentRead=True, **kwargs
    ):
        yield from page["Items"]


def _write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    """One batch, retrying what DynamoDB leaves unprocessed (with backoff)."""
    pending = {table: requests}
    for attempt in range(10):
        left = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not left:
            return
        pending = left
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise RestoreError(f"DynamoDB kept refusing writes to {table}: try again later")


def _batched(client: Any, table: str, requests: Iterator[dict[str, Any]]) -> int:
    batch: list[dict[str, Any]] = []
    done = 0
    for r in requests:
        batch.append(r)
        if len(batch) == BATCH:
            _write(client, table, batch)
            done += len(batch)
            batch = []
    if batch:
        _write(client, table, batch)
        done += len(batch)
    return done


def copy_back(client: Any, source: str, target: str, *, exact: bool = False) -> dict[str, int]:
    """Write every item of `source` into `target`; with `exact`, first delete the items of
    `target` that `source` lacks. Returns the counts of items copied and deleted."""
    if source == target:
        raise RestoreError("--from and --to name the same table")
    keys = _keys(client, source)
    if _keys(client, target) != keys:
        raise RestoreError(f"{source} and {target} have different keys: not a restore of it")
    deleted = 0
    if exact:
        names = {f"#k{i}": k for i, k in enumerate(keys)}
        projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}

        def key_of(item: dict[str, Any]) -> tuple[str, ...]:
            return tuple(repr(item[k]) for k in keys)

        present = {key_of(i) for i in _scan(client, source, **projection)}
        stale = (
            {"DeleteRequest": {"Key": {k: i[k] for k in keys}}}
            for i in _scan(client, target, **projection)
            if key_of(i) not in present
        )
        deleted = _batched(client, target, stale)
    copied = _batched(client, target, ({"PutRequest": {"Item": i}} for i in _scan(client, source)))
    return {"copied": copied, "deleted": deleted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", required=True, help="the restored table")
    parser.add_argument("--to", dest="target", required=True, help="the stage's table")
    parser.add_argument(
        "--exact", action="store_true", help="delete items the restored table does not have"
    )
    parser.add_argument("--yes", action="store_true", help="really write into --to")
    args = parser.parse_args(argv)
    if not args.yes:
        parser.error(f"this overwrites items of {args.target}: add --yes when you are sure")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        counts = copy_back(boto3.client("dynamodb"), args.source, args.target, exact=args.exact)
    except RestoreError as exc:
        print(f"restore: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"restore: AWS refused: {exc}", file=sys.stderr)
        return 1
    print(f"copied {counts['copied']} items into {args.target}, deleted {counts['deleted']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
