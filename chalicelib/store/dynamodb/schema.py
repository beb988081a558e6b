"""The table and its indexes, defined once for `create_table`, the deployment and the tests.

`create_table` calls boto3 directly (CreateTable and its waiter), before the table exists.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.errors import StoreUnavailable
from chalicelib.store.dynamodb.keys import LEVELS

PROJECTED = [
    "feature",
    "lon",
    "lat",
    "municipality",
    "industry_code",
    "section",
    "st",
    "founded",
    "ceased",
    "name_fold",
]
INDEXES: dict[str, tuple[str, str]] = {
    **{f"strip{lv}": (f"s{lv}pk", f"s{lv}sk") for lv in range(LEVELS)},
    "by_municipality": ("mpk", "msk"),
    "by_industry": ("ipk", "isk"),
    "by_id": ("apk", "ask"),
}


def table_definition(table: str) -> dict[str, Any]:
    """The CreateTable arguments: keys, every GSI with its projection, on-demand billing."""
    attrs = {"pk", "sk"} | {a for pair in INDEXES.values() for a in pair}
    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": PROJECTED},
            }
            for name, (pk, sk) in INDEXES.items()
        ],
    }


def create_table(client: Any, table: str) -> bool:
    """Create the table and its indexes (on-demand); False when it already exists."""
    from botocore.exceptions import ClientError

    try:
        client.create_table(**table_definition(table))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceInUseException":
            return False
        raise
    except Exception as exc:
        from botocore.exceptions import EndpointConnectionError

        if isinstance(exc, EndpointConnectionError):
            raise StoreUnavailable(f"cannot reach DynamoDB at {client.meta.endpoint_url}") from None
        raise
    client.get_waiter("table_exists").wait(TableName=table)
    return True
