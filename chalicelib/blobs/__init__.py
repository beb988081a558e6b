"""Published files: the BlobStore port (chalicelib.blobs.port) and the adapter a URL names.

A local folder (the embedded default) or S3; the adapters import the port, never this module,
so opening one by URL here closes no import cycle.
"""

from __future__ import annotations

from chalicelib.blobs.port import AlreadyExists, BlobInfo, BlobStore, BlobsUnavailable, BlobWriter

__all__ = ["AlreadyExists", "BlobInfo", "BlobStore", "BlobWriter", "BlobsUnavailable", "open_blobs"]


def open_blobs(url: str, public_url: str | None = None) -> BlobStore:
    """The adapter a `MIKROKORT_BLOBS` value names: a folder or `s3://BUCKET/PREFIX`.

    A folder is a `file:` URL, always absolute (RFC 8089: `file:///srv/mikrokort/blobs`, or
    `file://localhost/srv/...`), or a plain path (the configuration makes a relative one
    relative to the project folder).
    """
    if url.startswith("s3://") and len(url) > len("s3://"):
        from chalicelib.blobs.s3 import S3Blobs

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return S3Blobs(bucket, prefix.strip("/"), public_base=public_url)
    path = _folder(url)
    if path is None:
        raise BlobsUnavailable(
            f"MIKROKORT_BLOBS={url!r} is not supported: use a folder (file:///ABSOLUTE/PATH or "
            "a plain path) or s3://BUCKET/PREFIX"
        )
    from chalicelib.blobs.local import LocalBlobs

    return LocalBlobs(path)


def _folder(url: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    if url.startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            return None
        return "/" + unquote(parts.path).lstrip("/")  # file:////abs (four slashes) is /abs too
    if "://" in url or not url:
        return None
    return url
