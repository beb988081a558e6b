"""Configuration from environment variables (the contract in docs/OPERATIONS.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE = "sqlite:///.data/mikrokort.db"
DEFAULT_BLOBS = "file:///.data/blobs"


@dataclass(frozen=True)
class Settings:
    store_url: str
    blobs_url: str
    municipalities: tuple[str, ...]
    public_url: str | None
    geocoder_url: str | None = None
    geocoder_token: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        codes = os.environ.get("MIKROKORT_MUNICIPALITIES", "376,390")
        return cls(
            store_url=_project_relative(os.environ.get("MIKROKORT_STORE", DEFAULT_STORE)),
            blobs_url=_project_relative(os.environ.get("MIKROKORT_BLOBS", DEFAULT_BLOBS)),
            municipalities=tuple(c.strip()[-3:].zfill(3) for c in codes.split(",") if c.strip()),
            public_url=(os.environ.get("MIKROKORT_PUBLIC_URL") or "").rstrip("/") or None,
            geocoder_url=os.environ.get("MIKROKORT_GEOCODER_URL") or None,
            geocoder_token=os.environ.get("MIKROKORT_GEOCODER_TOKEN") or None,
        )


def _project_relative(url: str) -> str:
    """`sqlite:///.data/x.db` and `file:///.data/x` are relative to the project folder."""
    for scheme in ("sqlite:///", "file:///"):
        if url.startswith(scheme):
            path = url.removeprefix(scheme)
            if path and not path.startswith("/") and path != ":memory:":
                return scheme + str(PROJECT_ROOT / path)
    return url
