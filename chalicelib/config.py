"""All configuration, read from the environment in one place (the contract in docs/OPERATIONS.md).

Nothing else in the product reads `os.environ`: a `Settings` is made once per process (or per
test) and passed in, to the services and, through `HttpRequest.settings`, to every handler.
Each secret has one purpose: the cursor signing key and the salt of client hashes are separate,
so knowing one never helps with the other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chalicelib.domain.errors import NotConfigured

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE = "sqlite:///.data/mikrokort.db"
DEFAULT_BLOBS = ".data/blobs"  # a plain path: relative to the project folder
DEFAULT_MUNICIPALITIES = "376,390"
DEFAULT_CVR_URL = "http://distribution.virk.dk"
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
# the dimmed screen map of Danmarks Topografiske Kortværk, by WMS (chalicelib/tiles/basemap.py)
DEFAULT_BASEMAP_LAYER = "dtk_skaermkort_daempet"
DEFAULT_BASEMAP_ATTRIBUTION = "Skærmkort: © Klimadatastyrelsen"
# Development defaults: a deployment sets its own (docs/OPERATIONS.md, "Secrets").
DEFAULT_CURSOR_SECRET = b"mikrokort-cursor-v1"
DEFAULT_CLIENT_SALT = b"mikrokort-client-v1"


@dataclass(frozen=True)
class Settings:
    store_url: str = "sqlite:///" + str(PROJECT_ROOT / ".data" / "mikrokort.db")
    blobs_url: str = str(PROJECT_ROOT / ".data" / "blobs")
    municipalities: tuple[str, ...] = ("376", "390")
    public_url: str | None = None
    geocoder_url: str | None = None
    geocoder_token: str | None = None
    # signs paging cursors (HMAC); changing it only invalidates cursors in flight
    cursor_secret: bytes = DEFAULT_CURSOR_SECRET
    # salts the hashes of client addresses kept for rate limits (never the address itself)
    client_salt: bytes = DEFAULT_CLIENT_SALT
    blobs_public_url: str | None = None  # where published files are read (a CDN), if not S3's
    barometer_config: str | None = None  # TOML with the estimate parameters; None: the shipped one
    tile_url: str = DEFAULT_TILE_URL
    tile_attribution: str = DEFAULT_TILE_ATTRIBUTION
    # Danish base maps drawn by Dataforsyningen's WMS, the token kept here (None: tile_url)
    basemap_wms: str | None = None
    basemap_layer: str = DEFAULT_BASEMAP_LAYER
    basemap_token: str | None = None
    basemap_attribution: str = DEFAULT_BASEMAP_ATTRIBUTION
    cvr_url: str = DEFAULT_CVR_URL
    cvr_user: str = ""
    cvr_password: str = ""
    cvr_secret: str = ""  # an SSM parameter or Secrets Manager name holding the password
    # the reverse proxy in front of `mikrokort serve`: only its X-Forwarded-* headers are believed
    trusted_proxy: str | None = None
    on_lambda: bool = False  # set by the Lambda runtime (AWS_LAMBDA_FUNCTION_NAME)
    # per client address, on the expensive routes of the embedded server (AWS: a WAF rule)
    rate_limit_per_minute: int = 120
    rate_limit_burst: int = 60
    # the largest items page in bytes: a synchronous Lambda answer is at most 6 MB, and API
    # Gateway's proxy event escapes the body's quotes, so a page stops well before
    page_max_bytes: int = 4_500_000
    # above this many active businesses a municipality's map is drawn from tiles, not rows
    map_rows_max: int = 10_000
    # drawn tiles kept under tile-cache/ in the blob folder or bucket until the next write
    tile_cache: bool = True

    def default_secrets(self) -> list[str]:
        """The secrets still at their built-in development values (public in this source)."""
        names = []
        if self.cursor_secret == DEFAULT_CURSOR_SECRET:
            names.append("MIKROKORT_CURSOR_SECRET")
        if self.client_salt == DEFAULT_CLIENT_SALT:
            names.append("MIKROKORT_CLIENT_SALT")
        return names

    def require_secrets(self) -> None:
        """Refuse to serve the public with secrets anyone can read here: forged cursors and
        reversible client hashes would follow."""
        missing = self.default_secrets()
        if missing:
            raise NotConfigured(
                f"set {' and '.join(missing)} to secrets of this deployment before serving it"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        codes = env.get("MIKROKORT_MUNICIPALITIES", DEFAULT_MUNICIPALITIES)
        tile_url = get("MIKROKORT_TILE_URL") or DEFAULT_TILE_URL
        attribution = env.get("MIKROKORT_TILE_ATTRIBUTION")
        if attribution is None:  # an own tile source names its own attribution
            attribution = DEFAULT_TILE_ATTRIBUTION if tile_url == DEFAULT_TILE_URL else ""
        return cls(
            store_url=_project_relative(get("MIKROKORT_STORE") or DEFAULT_STORE),
            blobs_url=_project_relative(get("MIKROKORT_BLOBS") or DEFAULT_BLOBS),
            municipalities=tuple(c.strip()[-3:].zfill(3) for c in codes.split(",") if c.strip()),
            public_url=(get("MIKROKORT_PUBLIC_URL") or "").rstrip("/") or None,
            geocoder_url=get("MIKROKORT_GEOCODER_URL"),
            geocoder_token=get("MIKROKORT_GEOCODER_TOKEN"),
            cursor_secret=(get("MIKROKORT_CURSOR_SECRET") or "").encode() or DEFAULT_CURSOR_SECRET,
            client_salt=(get("MIKROKORT_CLIENT_SALT") or "").encode() or DEFAULT_CLIENT_SALT,
            blobs_public_url=(get("MIKROKORT_BLOBS_PUBLIC_URL") or "").rstrip("/") or None,
            barometer_config=get("MIKROKORT_BAROMETER_CONFIG"),
            tile_url=tile_url,
            tile_attribution=attribution,
            basemap_wms=get("MIKROKORT_BASEMAP_WMS"),
            basemap_layer=get("MIKROKORT_BASEMAP_LAYER") or DEFAULT_BASEMAP_LAYER,
            basemap_token=get("MIKROKORT_BASEMAP_TOKEN"),
            basemap_attribution=get("MIKROKORT_BASEMAP_ATTRIBUTION") or DEFAULT_BASEMAP_ATTRIBUTION,
            cvr_url=get("MIKROKORT_CVR_URL") or DEFAULT_CVR_URL,
            cvr_user=env.get("MIKROKORT_CVR_USER", ""),
            cvr_password=env.get("MIKROKORT_CVR_PASSWORD", ""),
            cvr_secret=env.get("MIKROKORT_CVR_SECRET", ""),
            trusted_proxy=get("MIKROKORT_TRUSTED_PROXY"),
            on_lambda=bool(get("AWS_LAMBDA_FUNCTION_NAME")),
            rate_limit_per_minute=_count(get("MIKROKORT_RATE_LIMIT"), 120, "MIKROKORT_RATE_LIMIT"),
            rate_limit_burst=_count(get("MIKROKORT_RATE_BURST"), 60, "MIKROKORT_RATE_BURST"),
            map_rows_max=max(
                1, _count(get("MIKROKORT_MAP_ROWS_MAX"), 10_000, "MIKROKORT_MAP_ROWS_MAX")
            ),
            tile_cache=_switch(get("MIKROKORT_TILE_CACHE"), True, "MIKROKORT_TILE_CACHE"),
        )


def _count(text: str | None, default: int, name: str) -> int:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()):
        raise NotConfigured(f"{name} must be a whole number, not {text!r}")
    return int(text)


def _switch(text: str | None, default: bool, name: str) -> bool:
    if text is None:
        return default
    value = text.strip().lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise NotConfigured(f"{name} must be on or off, not {text!r}")


def _project_relative(url: str) -> str:
    """Relative places are relative to the project folder, whatever the working directory:
    `sqlite:///.data/x.db` (SQLAlchemy's form; `sqlite:////abs/x.db` is absolute) and a plain
    folder path such as `.data/blobs`. A `file:` URL is always absolute (RFC 8089:
    `file:///srv/mikrokort/blobs` is the folder /srv/mikrokort/blobs)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and not path.startswith("/") and path != ":memory:":
            return "sqlite:///" + str(PROJECT_ROOT / path)
        return url
    if "://" not in url and not url.startswith("/"):
        return str(PROJECT_ROOT / url)
    return url
