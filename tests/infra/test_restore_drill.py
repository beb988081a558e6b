"""The restore drill of docs/OPERATIONS.md, step by step, on the local AWS stand-in (moto):
the calls the drill's aws CLI commands make (describe-continuous-backups,
restore-table-to-point-in-time, list-object-versions, copy-object with a version id,
delete-object of a delete marker), then `infra/restore.py` copying the restored table back
over a damaged one, after which the app reads the data as it was.

moto's point-in-time restore copies the table as it is at the call, whatever time is asked
for; so the restore is taken before the damage here, which gives the restored table the
content a real restore to that time would have. What AWS does between the time and the copy
is AWS's; the copy back, the exactness and the app's reads are ours, and tested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.restore import RestoreError, copy_back, main


def _items(client: Any, table: str) -> list[str]:
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return sorted(json.dumps(i, sort_keys=True, default=str) for p in pages for i in p["Items"])


@pytest.fixture
def live_table(aws_env: dict[str, str]) -> Iterator[tuple[Any, str]]:
    """The stage's table with PITR on (as the template sets it), holding the demo data."""
    import uuid

    import boto3

    from chalicelib.demo.seed import seed_demo
    from chalicelib.store.dynamodb import DynamoDBStore

    table = f"mikrokort-drill-{uuid.uuid4().hex[:8]}"
    store = DynamoDBStore(table)
    store.create_table()
    seed_demo(store, count=30, progress=lambda _: None)
    client = boto3.client("dynamodb")
    client.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    yield client, table


def test_table_restore_and_copy_back_gives_the_data_as_it_was(
    live_table: tuple[Any, str],
) -> None:
    from chalicelib.store.dynamodb import DynamoDBStore

    client, table = live_table
    store = DynamoDBStore(table)
    before = _items(client, table)
    cvrs = [json.loads(i)["cvr"]["S"] for i in before if '"sk": {"S": "BIZ"}' in i][:3]
    assert len(cvrs) == 3

    # 1. the window PITR can restore
    backups = client.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    pitr = backups["PointInTimeRecoveryDescription"]
    assert backups["ContinuousBackupsStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    # 2. restore into a new table (the drill's `restore-table-to-point-in-time`)
    restored = f"{table}-restored"
    client.restore_table_to_point_in_time(
        SourceTableName=table,
        TargetTableName=restored,
        RestoreDateTime=datetime.now(UTC),
    )
    client.get_waiter("table_exists").wait(TableName=restored)
    # 3. the damage: a business deleted, one changed, one written that was not there
    client.delete_item(TableName=table, Key={"pk": {"S": f"BIZ#{cvrs[0]}"}, "sk": {"S": "BIZ"}})
    client.update_item(
        TableName=table,
        Key={"pk": {"S": f"BIZ#{cvrs[1]}"}, "sk": {"S": "BIZ"}},
        UpdateExpression="SET #h = :t",
        ExpressionAttributeNames={"#h": "hidden"},
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    client.put_item(TableName=table, Item={"pk": {"S": "BIZ#99999999"}, "sk": {"S": "BIZ"}})
    assert _items(client, table) != before
    assert store.get_feature("businesses", cvrs[0]) is None
    # 4. the check of the restored table: what the app reads there
    assert _items(client, restored) == before
    assert DynamoDBStore(restored).get_feature("businesses", cvrs[0]) is not None

    # 5. copy back; without --exact the extra item stays, with it the table equals the copy
    counts = copy_back(client, restored, table)
    assert counts == {"copied": len(before), "deleted": 0}
    assert len(_items(client, table)) == len(before) + 1
    counts = copy_back(client, restored, table, exact=True)
    assert counts == {"copied": len(before), "deleted": 1}
    assert _items(client, table) == before
    assert store.get_feature("businesses", cvrs[0]) is not None


def test_copy_back_refuses_what_is_no_restore(live_table: tuple[Any, str]) -> None:
    client, table = live_table
    with pytest.raises(RestoreError, match="same table"):
        copy_back(client, table, table)
    with pytest.raises(RestoreError, match="no table 'missing-table'"):
        copy_back(client, "missing-table", table)
    other = f"{table}-other"
    client.create_table(
        TableName=other,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(RestoreError, match="different keys"):
        copy_back(client, other, table)


def test_the_command_says_what_is_wrong_in_one_line(
    live_table: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _client, table = live_table
    with pytest.raises(SystemExit) as exit_:
        main(["--from", "x", "--to", table])
    assert exit_.value.code == 2
    assert "add --yes when you are sure" in capsys.readouterr().err
    assert main(["--from", "missing-table", "--to", table, "--yes"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "restore: no table 'missing-table' in this account and region"
    assert "Traceback" not in err


def test_snapshot_file_comes_back_from_an_earlier_version(aws_env: dict[str, str]) -> None:
    """The bucket keeps versions: an overwritten file is copied back from its earlier
    version, a deleted one comes back when its delete marker is removed."""
    import uuid

    import boto3

    s3 = boto3.client("s3")
    bucket = f"mikrokort-drill-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = "snapshots/2025/businesses.csv"
    good = s3.put_object(Bucket=bucket, Key=key, Body=b"cvr;name\n10000004;Good\n")
    s3.put_object(Bucket=bucket, Key=key, Body=b"broken")

    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert len(versions) == 2
    (earlier,) = [v for v in versions if not v["IsLatest"]]
    assert earlier["VersionId"] == good["VersionId"]
    s3.copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key, "VersionId": earlier["VersionId"]},
    )
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"cvr;name\n10000004;Good\n"

    s3.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key=key)
    (marker,) = s3.list_object_versions(Bucket=bucket, Prefix=key)["DeleteMarkers"]
    assert marker["IsLatest"]
    s3.delete_object(Bucket=bucket, Key=key, VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"cvr;name\n10000004;Good\n"
