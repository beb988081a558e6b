"""The Store on one DynamoDB table (single-table design, on-demand capacity).

Item types (pk / sk):
- `BIZ#<cvr>` / `BIZ`: a business: private document, curated fields, version, and while visible
  its public feature plus the attributes of the indexes below.
- `NETWORKS` / `<id>`: a network document. `MUNICIPALITIES` / `<kommunekode>`: a municipality.
- `META` / `COUNT`, `HIDDEN`, `EXTENT`: the number of visible businesses, the set of hidden
  CVR numbers (hidden on request or moved out of the area), the extent of the data.
- `REC#<kind>` / `<key>`: operational records (job state, run reports, quarantine, geocoding
  cache), one partition per kind, listed by key.

Indexes (GSIs, each projecting the feature and the filter attributes):
- `strip0` ... `strip5`: the spatial index (see `keys`): viewport queries.
- `by_municipality`: kommunekode / cvr: municipality listings.
- `by_industry`: `SEC#<section>` / `<code>#<cvr>`: industry listings by section or code prefix.
- `by_id`: `BIZ#<first digit>` / cvr: the whole collection in CVR order, in 9 partitions.
No public path calls Scan. docs/DYNAMODB.md has the access patterns.

Modules: `schema` (the table and its indexes), `keys` (item and index keys, the viewport plan),
`items` (encoding), `connection` (the client and retried batches), `reads`, `writes`, `records`.
"""

from __future__ import annotations

from chalicelib.store.dynamodb.records import Records
from chalicelib.store.dynamodb.schema import create_table
from chalicelib.store.dynamodb.writes import Writes


class DynamoDBStore(Writes, Records):
    """Store adapter on DynamoDB through boto3 (the same code runs in Lambda)."""

    def create_table(self) -> bool:
        """Create the table and its indexes (on-demand); False when it already exists. An
        existing table written by an older version gets its public features in today's shape
        (`mikrokort init` after an upgrade)."""
        created = create_table(self.client, self.table)
        if created:
            self.mark_feature_shape()
        else:
            self.upgrade_features()
        return created


__all__ = ["DynamoDBStore"]
