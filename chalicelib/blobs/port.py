"""The BlobStore port: where published files go. A local folder (the embedded default) or S3.

Files are written through streaming writers (a part at a time on S3, a temporary file locally),
so a snapshot of a million businesses never sits in memory. A file becomes visible only when
its writer commits; `create_only` makes a commit fail instead of replacing an existing file,
which is how a published year is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.errors import Conflict, MikrokortError


class BlobsUnavailable(MikrokortError):
    status = 503
    code = "BlobsUnavailable"


class AlreadyExists(Conflict):
    """A create-only write found the file there already."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> None:
        """Make the file visible (raises AlreadyExists for a create-only writer)."""
        ...

    def abort(self) -> None:
        """Drop what was written; nothing becomes visible."""
        ...


class BlobStore(Protocol):
    def writer(self, key: str, content_type: str, *, create_only: bool = False) -> BlobWriter: ...

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        create_only: bool = False,
        durable: bool = True,
    ) -> None:
        """Write a small file in one go; `durable=False` for a copy that may be lost (a
        cache): the folder then skips the wait for the disk, S3 is durable anyway."""
        ...

    def get(self, key: str) -> bytes | None: ...

    def list(self, prefix: str) -> list[BlobInfo]:
        """Files under a prefix, in key order."""
        ...

    def public_url(self, key: str) -> str | None:
        """A URL the public can download from directly, or None when the app serves it."""
        ...

    def remove_stale(self, prefix: str, keep: str, older_than_s: float) -> None:
        """Remove the folders directly under `prefix` (but `keep`) that nothing was written to
        for `older_than_s` seconds: a cache's generations that are no longer read."""
        ...
