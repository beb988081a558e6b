"""BlobStore on a local folder: the embedded default.

A writer fills a hidden temporary file beside its target; commit renames it into place (atomic
on one file system), or for a create-only file hard-links it, which fails when the target
exists: a crash leaves at most a temporary file, never a half-written visible one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO

from chalicelib.blobs.port import AlreadyExists, BlobInfo, BlobsUnavailable


class LocalWriter:
    def __init__(self, target: Path, create_only: bool, durable: bool = True) -> None:
        self.target = target
        self.create_only = create_only
        self.durable = durable
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        except OSError as exc:
            raise BlobsUnavailable(f"cannot write under {target.parent}: {exc}") from None
        self._tmp = Path(name)
        self._fh: IO[bytes] | None = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        assert self._fh is not None, "writer already closed"
        self._fh.write(data)

    def commit(self) -> None:
        assert self._fh is not None, "writer already closed"
        self._fh.flush()
        if self.durable:
            os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        try:
            if self.create_only:
                try:
                    os.link(self._tmp, self.target)
                except FileExistsError:
                    raise AlreadyExists(f"{self.target.name} exists already") from None
            else:
                os.replace(self._tmp, self.target)
        finally:
            self._tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._tmp.unlink(missing_ok=True)


class LocalBlobs:
    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not str(path).startswith(str(self.root.resolve()) + os.sep):
            raise BlobsUnavailable(f"key {key!r} leaves the blob folder")
        return path

    def writer(self, key: str, content_type: str, *, create_only: bool = False) -> LocalWriter:
        return LocalWriter(self._path(key), create_only)

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        create_only: bool = False,
        durable: bool = True,
    ) -> None:
        w = LocalWriter(self._path(key), create_only, durable)
        try:
            w.write(data)
        except BaseException:
            w.abort()
            raise
        w.commit()

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def list(self, prefix: str) -> list[BlobInfo]:
        base = self.root
        if not base.is_dir():
            return []
        out = []
        for dirpath, _, files in os.walk(base):
            for name in files:
                if name.startswith("."):
                    continue  # temporary files of writers in progress
                path = Path(dirpath) / name
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    out.append(BlobInfo(key=key, size=path.stat().st_size))
        return sorted(out, key=lambda b: b.key)

    def public_url(self, key: str) -> str | None:
        return None

    def remove_stale(self, prefix: str, keep: str, older_than_s: float) -> None:
        """By the folders' modification times (a file written into a folder moves its time)."""
        base = self._path(prefix.rstrip("/") + "/.")
        try:
            children = list(os.scandir(base))
        except OSError:
            return
        now = time.time()
        for entry in children:
            try:
                stale = entry.is_dir() and entry.stat().st_mtime < now - older_than_s
            except OSError:
                continue
            if entry.name != keep and stale:
                shutil.rmtree(entry.path, ignore_errors=True)
