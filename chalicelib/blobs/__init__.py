"""Published files: the BlobStore port (chalicelib.blobs.port) and the adapter a URL names.

A local folder (the embedded default) or S3; the adapters import the port, never this module,
so opening one by URL here closes no import cycle.
"""

from __future__ import annotations

from chalicelib.blobs.port import AlreadyExists, BlobInfo, BlobStore, BlobsUnavailable, BlobWriter

__all__ = ["AlreadyExists", "BlobInfo", "BlobStore", "BlobWriter", "BlobsUnavailable", "open_blobs"]


def open_blobs(url: str, public_url: str | None = None) -> BlobStore:
    """The adapter a `MIKROKORT_BLOBS` URL names: `file:///PATH` or `s3://BUCKET/PREFIX`.

    Like `sqlite:///PATH`, `file:///PATH` is relative to the project folder (the configuration
    resolves it) and `file:////abs/path` is absolute.
    """
    if url.startswith("file:///"):
        from chalicelib.blobs.local import LocalBlobs

        return LocalBlobs("/" + url.removeprefix("file:///").lstrip("/"))
    if url.startswith("s3://") and len(url) > len("s3://"):
        from chalicelib.blobs.s3 import S3Blobs

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return S3Blobs(bucket, prefix.strip("/"), public_base=public_url)
    raise BlobsUnavailable(
        f"MIKROKORT_BLOBS={url!r} is not supported: use file:///PATH or s3://BUCKET/PREFIX"
    )
