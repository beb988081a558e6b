"""What the handlers of one deployment share: its settings and the store, published files and
services they open. Opened on first use, once per process (a Lambda container keeps them warm);
nothing here holds per-request state.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.config import Settings

if TYPE_CHECKING:
    from chalicelib.blobs import BlobStore
    from chalicelib.curation.admin import AdminService
    from chalicelib.features.service import FeaturesService
    from chalicelib.store import Store
    from chalicelib.tiles.service import TilesService


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self) -> Store:
        from chalicelib.store import open_store

        return open_store(self.settings.store_url)

    @cached_property
    def blobs(self) -> BlobStore:
        """Most requests never touch published files, so they are opened only when asked for."""
        from chalicelib.blobs import open_blobs

        return open_blobs(self.settings.blobs_url, self.settings.blobs_public_url)

    @cached_property
    def features(self) -> FeaturesService:
        from chalicelib.features.service import FeaturesService

        return FeaturesService(self.store)

    @cached_property
    def tiles(self) -> TilesService:
        """Map tiles: their encoder is imported with the first tile asked for, and the blob
        store of their cache opened then."""
        from chalicelib.tiles.cache import TileCache
        from chalicelib.tiles.service import TilesService

        cache = TileCache(self.blobs) if self.settings.tile_cache else None
        return TilesService(self.store, cache)

    @cached_property
    def admin(self) -> AdminService:
        """The write side (API keys required); loaded only when a write route is called."""
        from chalicelib.curation.admin import AdminService

        return AdminService(self.store)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
