"""BlobStore on S3: multipart uploads, and conditional writes for create-only files.

A writer buffers one part (8 MB) at a time and uploads it, so memory stays flat however big
the file; commit completes the upload (with `If-None-Match: *` for create-only files, which S3
refuses with 412 when the key exists). An aborted or crashed upload leaves no object: S3 only
shows a multipart upload once it is completed (a lifecycle rule cleans up abandoned parts).
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.blobs.port import AlreadyExists, BlobInfo, BlobsUnavailable

PART_SIZE = 8 * 1024 * 1024  # S3's minimum is 5 MiB for every part but the last


def _client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        config=Config(retries={"max_attempts": 10, "mode": "adaptive"}, read_timeout=120),
    )


def _precondition_failed(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    code = str(exc.response.get("Error", {}).get("Code"))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("PreconditionFailed", "412") or status == 412


class S3Writer:
    def __init__(self, blobs: S3Blobs, key: str, content_type: str, create_only: bool) -> None:
        self.blobs = blobs
        self.key = key
        self.content_type = content_type
        self.create_only = create_only
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= PART_SIZE:
            self._flush_part()

    def _flush_part(self) -> None:
        c = self.blobs.client
        if self._upload_id is None:
            self._upload_id = c.create_multipart_upload(
                Bucket=self.blobs.bucket,
                Key=self.blobs.full(self.key),
                ContentType=self.content_type,
            )["UploadId"]
        number = len(self._parts) + 1
        resp = c.upload_part(
            Bucket=self.blobs.bucket,
            Key=self.blobs.full(self.key),
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"ETag": resp["ETag"], "PartNumber": number})
        self._buffer.clear()

    def commit(self) -> None:
        c = self.blobs.client
        condition = {"IfNoneMatch": "*"} if self.create_only else {}
        try:
            if self._upload_id is None:  # a small file: one PutObject
                c.put_object(
                    Bucket=self.blobs.bucket,
                    Key=self.blobs.full(self.key),
                    Body=bytes(self._buffer),
                    ContentType=self.content_type,
                    **condition,
                )
                return
            if self._buffer:
                self._flush_part()
            c.complete_multipart_upload(
                Bucket=self.blobs.bucket,
                Key=self.blobs.full(self.key),
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
                **condition,
            )
        except Exception as exc:
            self.abort()
            if _precondition_failed(exc):
                raise AlreadyExists(f"{self.key} exists already") from None
            raise

    def abort(self) -> None:
        if self._upload_id is not None:
            with contextlib.suppress(Exception):
                self.blobs.client.abort_multipart_upload(
                    Bucket=self.blobs.bucket,
                    Key=self.blobs.full(self.key),
                    UploadId=self._upload_id,
                )
            self._upload_id = None
        self._buffer.clear()


class S3Blobs:
    def __init__(
        self, bucket: str, prefix: str = "", client: Any = None, public_base: str | None = None
    ) -> None:
        self.public_base = public_base  # a CDN in front of the bucket (Settings.blobs_public_url)
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or _client()

    def full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def writer(self, key: str, content_type: str, *, create_only: bool = False) -> S3Writer:
        return S3Writer(self, key, content_type, create_only)

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        create_only: bool = False,
        durable: bool = True,
    ) -> None:
        w = self.writer(key, content_type, create_only=create_only)
        w.write(data)
        w.commit()

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self.full(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return resp["Body"].read()

    def list(self, prefix: str) -> list[BlobInfo]:
        out = []
        paginator = self.client.get_paginator("list_objects_v2")
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.full(prefix)):
            for obj in page.get("Contents", []):
                out.append(BlobInfo(key=obj["Key"][strip:], size=int(obj["Size"])))
        return sorted(out, key=lambda b: b.key)

    def public_url(self, key: str) -> str | None:
        if self.public_base:
            return f"{self.public_base.rstrip('/')}/{self.full(key)}"
        region = self.client.meta.region_name
        return f"https://{self.bucket}.s3.{region}.amazonaws.com/{self.full(key)}"

    def remove_stale(self, prefix: str, keep: str, older_than_s: float) -> None:
        """Nothing to do here: the bucket's lifecycle rule expires what is under the cache's
        prefix a day after it was written (infra/resources.py), without a list or a delete."""

    def create_bucket(self) -> bool:
        """Create the bucket where missing (for `mikrokort init` and tests)."""
        from botocore.exceptions import ClientError

        try:
            region = self.client.meta.region_name
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if region and region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self.client.create_bucket(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            ):
                return False
            raise BlobsUnavailable(f"cannot create bucket {self.bucket}: {exc}") from None
        return True
