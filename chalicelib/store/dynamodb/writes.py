"""Writes: upserts, curation and network edits, with the visible count, hidden set and extent
kept in step; every write is conditional on the state read (a version, a content digest, or
absence), and re-read and retried when another writer got there first. A curation or network
edit and its audit record go in one TransactWriteItems, so the log never disagrees with the
data; the visible count and hidden set follow right after each write. After every write of
public data (businesses, networks, municipalities) the change token moves (`META` / `CHANGES`,
see `Reads.change_token`), so answers tagged from it are never older than their tag.

Every call goes through `Connection._call` (boto3 PutItem, UpdateItem, DeleteItem,
TransactWriteItems).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import Conflict, NotFound, StoreUnavailable
from chalicelib.domain.models import is_cvr_number
from chalicelib.store.dynamodb.connection import BATCH_GET, backoff
from chalicelib.store.dynamodb.items import (
    attr_n,
    attr_s,
    business_from,
    business_item,
    keep_people_fields,
    record_item,
    stored_state,
)
from chalicelib.store.dynamodb.reads import Reads
from chalicelib.store.port import WriteResult
from chalicelib.store.shared import (
    check_precondition,
    content_digest,
    count_upsert,
    keep_curated_municipality,
)
from chalicelib.store.shared import record_item as record_doc

if TYPE_CHECKING:
    from chalicelib.domain.models import Business, Curation, Municipality, Network
    from chalicelib.store.port import Record

ATTEMPTS = 8
# The shape of the public features stored in business items: 2 = flat properties (lists as
# text, four-digit kommunekoder). A table marked with less is re-rendered by upgrade_features.
FEATURE_SHAPE = 2


class Writes(Reads):
    """The Store's writes (reads included: a write reads what it replaces)."""

    def _changed(self) -> None:
        """Move the change token: one counter item, ADD (no transaction, so concurrent
        writers never conflict on it), after the data is written, never before: a reader
        reads the token first, so its answer may be newer than its tag, never older. `at`
        lets a reader know the indexes may still be catching up (Reads.change_token)."""
        self._call(
            "update_item",
            TableName=self.table,
            Key={"pk": attr_s("META"), "sk": attr_s("CHANGES")},
            UpdateExpression="ADD #v :one SET #at = :now, epoch = if_not_exists(epoch, :e)",
            ExpressionAttributeNames={"#v": "value", "#at": "at"},
            ExpressionAttributeValues={
                ":one": attr_n(1),
                ":now": attr_n(int(time.time())),
                ":e": attr_s(secrets.token_hex(6)),  # a recreated table never repeats tokens
            },
        )

    @contextmanager
    def _public_write(self) -> Iterator[None]:
        """Around writes of public data: the token moves when they are done, also when one
        failed part-way (what was written before the failure is public already)."""
        try:
            yield
        finally:
            self._changed()

    def upgrade_features(self) -> int:
        """Render every business's public feature again, in today's shape, where the table is
        marked with an older one; returns how many were rewritten. Reads the id index's nine
        partitions (Query, never Scan); each rewrite is conditional on the version read, so a
        business a refresh writes meanwhile keeps what the refresh wrote (in today's shape)."""
        mark = self._meta("SHAPE")
        if mark and int(mark["value"]["N"]) >= FEATURE_SHAPE:
            return 0
        from chalicelib.store.dynamodb.keys import ID_SHARDS

        rewritten = 0
        with self._public_write():
            rewritten = self._rerender_shards(ID_SHARDS)
        self.mark_feature_shape()
        return rewritten

    def _rerender_shards(self, shards: Iterable[str]) -> int:
        rewritten = 0
        for shard in shards:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "by_id",
                "KeyConditionExpression": "apk = :p",
                "ExpressionAttributeValues": {":p": attr_s(f"BIZ#{shard}")},
                "ProjectionExpression": "ask",
            }
            while True:
                resp = self._call("query", **kwargs)
                cvrs = [i["ask"]["S"] for i in resp["Items"]]
                for i in range(0, len(cvrs), BATCH_GET):
                    rewritten += self._rerender(cvrs[i : i + BATCH_GET])
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return rewritten

    def mark_feature_shape(self) -> None:
        """Record that the table's features are in today's shape (a new table is)."""
        self._call(
            "put_item",
            TableName=self.table,
            Item={"pk": attr_s("META"), "sk": attr_s("SHAPE"), "value": attr_n(FEATURE_SHAPE)},
        )

    def _rerender(self, cvrs: list[str]) -> int:
        from botocore.exceptions import ClientError

        done = 0
        for item in self._batch_get(cvrs, "pk, sk, doc, curated, nets, version"):
            if "doc" not in item:
                continue
            fresh = business_item(business_from(item), int(item["version"]["N"]))
            if "feature" not in fresh:
                continue
            try:
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET feature = :f",
                    ConditionExpression="#v = :v",
                    ExpressionAttributeNames={"#v": "version"},
                    ExpressionAttributeValues={":f": fresh["feature"], ":v": item["version"]},
                )
                done += 1
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return done

    def upsert_businesses(self, businesses: Iterable[Business]) -> WriteResult:
        result = WriteResult()
        chunk: list[Business] = []
        for b in businesses:
            chunk.append(b)
            if len(chunk) == BATCH_GET:
                result += self._upsert_chunk(chunk)
                chunk = []
        if chunk:
            result += self._upsert_chunk(chunk)
        return result

    def _existing(self, cvrs: list[str]) -> dict[str, dict[str, Any]]:
        items = self._batch_get(
            cvrs, "cvr, version, content_hash, curated, nets, hidden, doc", consistent=True
        )
        return {i["cvr"]["S"]: i for i in items}

    def _upsert_chunk(self, chunk: list[Business]) -> WriteResult:
        from chalicelib.domain.models import Curation

        chunk = list({b.id: b for b in chunk}.values())
        existing = self._existing([b.id for b in chunk])
        result = WriteResult()
        inserts: list[dict[str, Any]] = []
        updates: list[tuple[Business, dict[str, Any]]] = []
        for b in chunk:
            old = existing.get(b.id)
            if old is not None:
                b = b.model_copy(
                    update={
                        "curated": Curation.model_validate_json(old["curated"]["S"]),
                        "networks": sorted(old.get("nets", {}).get("SS", [])),
                    }
                )
            else:
                b = b.model_copy(update={"networks": []})
            stored = (int(old["version"]["N"]), old["content_hash"]["S"]) if old else None
            version = count_upsert(result, b.id, content_digest(b), stored)
            if version is None:
                continue
            if old is None:
                inserts.append(business_item(b, version))
            else:
                updates.append((b, old))
        if not inserts and not updates:
            return result
        # counts follow each write at once, so a crash leaves at most one write uncounted
        shown = []
        with self._public_write():
            for item in inserts:
                written, replaced = self._insert(item)
                self._account_visibility([(written, replaced)], widen=False)
                if not written["hidden"]["BOOL"]:
                    shown.append(written)
            for b, old in updates:
                written = self._put_update(b, old)
                self._account_visibility([(written, old)], widen=False)
                if not written["hidden"]["BOOL"]:
                    shown.append(written)
            if shown:
                self._widen_extent(shown)
        return result

    def _account_visibility(
        self, changes: list[tuple[dict[str, Any], dict[str, Any] | None]], widen: bool = True
    ) -> None:
        """Keep the visible count, the hidden set and the extent in step with written items.

        `changes` pairs each written item with the item it replaced (None for an insert).
        """
        delta = 0
        to_hide: list[str] = []
        to_show: list[str] = []
        for new, old in changes:
            now_hidden = new["hidden"]["BOOL"]
            was_hidden = True if old is None else old.get("hidden", {}).get("BOOL", False)
            if old is None and now_hidden:
                to_hide.append(new["cvr"]["S"])
            if was_hidden == now_hidden:
                continue
            delta += -1 if now_hidden else 1
            if old is not None:
                (to_hide if now_hidden else to_show).append(new["cvr"]["S"])
        if delta:
            self._add_count(delta)
        if to_hide:
            self._set_hidden(add=to_hide)
        if to_show:
            self._set_hidden(remove=to_show)
        visible = [new for new, _ in changes if not new["hidden"]["BOOL"]]
        if visible and widen:
            self._widen_extent(visible)

    def _insert(self, item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Put a new business only where none is stored; when another writer stored it
        meanwhile (and people may have curated it since), update that one instead, keeping its
        people-owned fields. Returns the item written and the item it replaced."""
        if self._write_together([{"Put": self._put_args(item, None)}]) is None:
            return item, None
        b = business_from(item)
        fresh = self._read_business(b.id)
        if fresh is None:
            raise Conflict(f"business {b.id} was deleted while it was being written")
        old = fresh[1]
        return self._put_update(keep_people_fields(b, old), old), old

    def _put_args(self, item: dict[str, Any], version: int | None) -> dict[str, Any]:
        """PutItem arguments conditioned on the version read (None: on absence)."""
        if version is None:
            return {
                "TableName": self.table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        return {
            "TableName": self.table,
            "Item": item,
            "ConditionExpression": "#v = :v",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":v": attr_n(version)},
        }

    def _put_update(
        self,
        b: Business,
        old: dict[str, Any],
        merge: Callable[[Business, dict[str, Any]], Business] | None = None,
    ) -> dict[str, Any]:
        """Conditional put on the version read; on a lost race, re-read, re-merge, retry.

        `merge` rebuilds the business from a fresh read; by default the register fields of
        `b` win and curated fields and memberships come from the fresh item.
        Returns the item written; `old` is updated in place to the item it replaced.
        """
        merge = merge or keep_people_fields
        for attempt in range(ATTEMPTS):
            version = int(old["version"]["N"])
            item = business_item(b, version + 1)
            if self._put_if_version(item, version):
                return item
            fresh = self._read_business(b.id)
            fresh = fresh[1] if fresh else None
            if fresh is None:
                raise Conflict(f"business {b.id} was deleted while it was being updated")
            b = merge(b, fresh)
            old.clear()
            old.update(fresh)
            backoff(attempt)
        raise Conflict(f"business {b.id} is being changed by another writer; try again")

    def _put_if_version(self, item: dict[str, Any], version: int) -> bool:
        """PutItem only over the version read; False when another writer changed it first."""
        return self._write_together([{"Put": self._put_args(item, version)}]) is None

    def curate_business(
        self,
        business_id: str,
        curation: Curation,
        expected_version: int | None = None,
        *,
        record: Record | None = None,
    ) -> int:
        """Replace the curated fields of the business as stored now (its register fields are
        never an older copy's): the put is conditioned on the version read, and goes in one
        transaction with `record`. With
        `expected_version`, a stale write is refused (Conflict); without, it is retried."""
        for attempt in range(ATTEMPTS):
            found = self._read_business(business_id) if is_cvr_number(business_id) else None
            if found is None:
                raise NotFound(f"no business {business_id}")
            current, old = found
            version = int(old["version"]["N"])
            if expected_version is not None and version != expected_version:
                raise Conflict(
                    f"business {business_id} is at version {version}, not {expected_version}"
                )
            after = current.model_copy(update={"curated": curation})
            item = business_item(after, version + 1)
            ops = [{"Put": self._put_args(item, version)}]
            if record is not None:
                key, doc = record_doc(record, current, after)
                ops.append(
                    {"Put": {"TableName": self.table, "Item": record_item(record.kind, key, doc)}}
                )
            failed = self._write_together(ops)
            if failed is None:
                with self._public_write():
                    self._account_visibility([(item, old)])
                return version + 1
            if failed == 0 and expected_version is not None:
                raise Conflict(f"business {business_id} changed meanwhile")
            backoff(attempt)
        raise Conflict(f"business {business_id} is being changed by another writer; try again")

    def _add_count(self, n: int) -> None:
        self._call(
            "update_item",
            TableName=self.table,
            Key={"pk": attr_s("META"), "sk": attr_s("COUNT")},
            UpdateExpression="ADD #v :n",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":n": attr_n(n)},
        )

    def _set_hidden(self, add: list[str] | None = None, remove: list[str] | None = None) -> None:
        op, cvrs = ("ADD", add) if add else ("DELETE", remove)
        self._call(
            "update_item",
            TableName=self.table,
            Key={"pk": attr_s("META"), "sk": attr_s("HIDDEN")},
            UpdateExpression=f"{op} cvrs :c",
            ExpressionAttributeValues={":c": {"SS": sorted(set(cvrs or []))}},
        )

    def _widen_extent(self, items: list[dict[str, Any]]) -> None:
        """Grow the stored extent to cover these items (conditional writes; it never shrinks)."""
        from botocore.exceptions import ClientError

        located = [i for i in items if "lon" in i]
        founded = [i["founded"]["S"] for i in items if "founded" in i]
        bounds: list[tuple[str, dict[str, str], str]] = []
        if located:
            xs = [float(i["lon"]["N"]) for i in located]
            ys = [float(i["lat"]["N"]) for i in located]
            bounds += [
                ("minx", attr_n(min(xs)), "<"),
                ("miny", attr_n(min(ys)), "<"),
                ("maxx", attr_n(max(xs)), ">"),
                ("maxy", attr_n(max(ys)), ">"),
            ]
        if founded:
            bounds.append(("founded", attr_s(min(founded)), "<"))
        for name, value, op in bounds:
            try:
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key={"pk": attr_s("META"), "sk": attr_s("EXTENT")},
                    UpdateExpression=f"SET {name} = :v",
                    ConditionExpression=f"attribute_not_exists({name}) OR :v {op} {name}",
                    ExpressionAttributeValues={":v": value},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise

    def upsert_networks(self, networks: Iterable[Network]) -> WriteResult:
        from chalicelib.domain.errors import PreconditionFailed

        result = WriteResult()
        for n in networks:
            digest = content_digest(n)
            for attempt in range(ATTEMPTS):
                stored = stored_state(self._network_item(n.id, consistent=True))
                if stored is not None and stored[1] == digest:
                    result.unchanged += 1
                    break
                try:
                    self.put_network(n, stored[1] if stored else None, create=stored is None)
                except (Conflict, PreconditionFailed):  # changed meanwhile: read it again
                    backoff(attempt)
                    continue
                count_upsert(result, n.id, digest, stored)
                break
            else:
                raise Conflict(f"network {n.id} is being changed by others; try again")
        return result

    def put_network(
        self,
        network: Network,
        if_match: str | None,
        *,
        create: bool = False,
        record: Record | None = None,
    ) -> str:
        """Write one network only over the state read (create-only, or If-Match its digest),
        with `record` in the same transaction; then bring its members' items in step."""
        from chalicelib.domain.errors import PreconditionFailed
        from chalicelib.domain.models import Network

        old_item = self._network_item(network.id, consistent=True)
        current = old_item["content_hash"]["S"] if old_item else None
        check_precondition(network.id, current, if_match, create)
        digest = content_digest(network)
        old = Network.model_validate_json(old_item["doc"]["B"]) if old_item else None
        if current == digest and record is None:
            return digest
        version = int(old_item["version"]["N"]) if old_item else 0
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "pk": attr_s("NETWORKS"),
                "sk": attr_s(network.id),
                "doc": {"B": network.model_dump_json().encode()},
                "version": attr_n(version + 1),
                "content_hash": attr_s(digest),
            },
            **_digest_condition(current),
        }
        ops = [{"Put": put}]
        if record is not None:
            key, doc = record_doc(record, old, network)
            ops.append(
                {"Put": {"TableName": self.table, "Item": record_item(record.kind, key, doc)}}
            )
        failed = self._write_together(ops)
        if failed is not None:
            if create and failed == 0:
                raise Conflict(f"network {network.id} exists already")
            raise PreconditionFailed(f"network {network.id} changed meanwhile")
        before = set(old.members) if old else set()
        with self._public_write():
            self._sync_memberships(network.id, sorted(before ^ set(network.members)))
        return digest

    def delete_network(
        self, network_id: str, if_match: str | None, *, record: Record | None = None
    ) -> None:
        from chalicelib.domain.errors import PreconditionFailed
        from chalicelib.domain.models import Network

        old_item = self._network_item(network_id, consistent=True)
        current = old_item["content_hash"]["S"] if old_item else None
        check_precondition(network_id, current, if_match, False)
        assert old_item is not None
        old = Network.model_validate_json(old_item["doc"]["B"])
        ops: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": {"pk": attr_s("NETWORKS"), "sk": attr_s(network_id)},
                    **_digest_condition(current),
                }
            }
        ]
        if record is not None:
            key, doc = record_doc(record, old, None)
            ops.append(
                {"Put": {"TableName": self.table, "Item": record_item(record.kind, key, doc)}}
            )
        if self._write_together(ops) is not None:
            raise PreconditionFailed(f"network {network_id} changed meanwhile")
        with self._public_write():
            self._sync_memberships(network_id, sorted(old.members))

    def _members_now(self, network_id: str) -> set[str]:
        from chalicelib.domain.models import Network

        item = self._network_item(network_id, consistent=True)
        return set(Network.model_validate_json(item["doc"]["B"]).members) if item else set()

    def _sync_memberships(self, network_id: str, cvrs: list[str]) -> None:
        """Make these businesses' items agree with the network as stored now (member or not),
        re-rendering their public features. Each is decided from a fresh read of the network
        on every attempt, not from the change that triggered it, so two edits of one network
        that land in one order cannot leave the memberships in the other."""

        def synced(b: Business, members: set[str]) -> Business:
            nets = set(b.networks) - {network_id} | ({network_id} if b.id in members else set())
            return b.model_copy(update={"networks": sorted(nets)})

        def on_fresh(_: Business, fresh: dict[str, Any]) -> Business:
            """After a lost race: the fresh item as it is, synced with a fresh network read."""
            return synced(business_from(fresh), self._members_now(network_id))

        for i in range(0, len(cvrs), BATCH_GET):
            members = self._members_now(network_id)
            items = self._batch_get(
                cvrs[i : i + BATCH_GET],
                "cvr, version, content_hash, curated, nets, hidden, doc",
                consistent=True,
            )
            for old in items:
                b = synced(business_from(old), members)
                if b.networks == sorted(old.get("nets", {}).get("SS", [])):
                    continue  # already in step
                written = self._put_update(b, old, merge=on_fresh)
                self._account_visibility([(written, old)], widen=False)

    def upsert_municipalities(self, municipalities: Iterable[Municipality]) -> WriteResult:
        """Read, merge what people set (keep_curated_municipality), write on the condition that
        nothing changed in between; retried when something did."""
        from botocore.exceptions import ClientError

        from chalicelib.domain.privacy import public_municipality

        result = WriteResult()
        for incoming in municipalities:
            key = {"pk": attr_s("MUNICIPALITIES"), "sk": attr_s(incoming.kommunekode)}
            for _attempt in range(10):
                old = self._call(
                    "get_item",
                    TableName=self.table,
                    Key=key,
                    ConsistentRead=True,
                    ProjectionExpression="#v, content_hash, doc",
                    ExpressionAttributeNames={"#v": "version"},
                ).get("Item")
                stored_doc = old["doc"]["B"] if old and "doc" in old else None
                m = keep_curated_municipality(incoming, stored_doc)
                digest = content_digest(m)
                attempt = WriteResult()
                version = count_upsert(attempt, m.kommunekode, digest, stored_state(old))
                if version is None:
                    result += attempt
                    break
                feature = public_municipality(m)
                try:
                    self._call(
                        "put_item",
                        TableName=self.table,
                        Item={
                            **key,
                            "doc": {"B": m.model_dump_json().encode()},
                            "feature": attr_s(orjson.dumps(feature).decode()),
                            "version": attr_n(version),
                            "content_hash": attr_s(digest),
                        },
                        **_digest_condition(old["content_hash"]["S"] if old else None),
                    )
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
                    continue  # written by someone else meanwhile: read again
                self._changed()
                result += attempt
                break
            else:
                raise StoreUnavailable(f"municipality {incoming.kommunekode}: too many conflicts")
        return result


def _digest_condition(current: str | None) -> dict[str, Any]:
    """The condition of a network write: absent when read absent, else the digest read."""
    if current is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "content_hash = :h",
        "ExpressionAttributeValues": {":h": attr_s(current)},
    }
