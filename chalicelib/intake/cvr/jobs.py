"""Wiring of the refresh from configuration: used by the CLI and the scheduled function."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.intake.cvr.refresh import Progress, Refresh

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.intake.cvr.client import CvrClient
    from chalicelib.store import Store


def geocoder(settings: Settings):
    """The configured address service, or None (offline: postcode points only)."""
    if not settings.geocoder_url:
        return None
    from chalicelib.intake.geocode.gsearch import GsearchGeocoder

    # short timeouts: a slow service must not hold the nightly run (it falls back instead)
    return GsearchGeocoder(settings.geocoder_url, settings.geocoder_token, timeout=5.0, retries=1)


def refresh_job(store: Store, settings: Settings, progress: Progress | None = None) -> Refresh:
    from chalicelib.intake.geocode.locate import AddressLocator

    locator = AddressLocator(store, geocoder(settings))
    return Refresh(store, locator, settings.municipalities, progress=progress)


def register_client(settings: Settings, page_size: int = 1000) -> CvrClient:
    """A client for the configured register; NotConfigured says clearly what is missing."""
    from chalicelib.intake.cvr.client import CvrClient
    from chalicelib.intake.cvr.credentials import register_credentials

    creds = register_credentials(settings)
    size = max(1, min(page_size, 3000))  # the service refuses pages above 3000
    return CvrClient(creds.url, creds.user, creds.password, page_size=size)


def scheduled_refresh(settings: Settings, context: object | None = None) -> dict[str, object]:
    """The scheduled function's body: run (or resume) a refresh, stopping a minute before the
    Lambda's time is up (a minute, or a fifth of a short timeout); the next invocation
    resumes from the checkpoint."""
    import time
    from dataclasses import asdict

    from chalicelib.intake.reference import (
        load_configured_municipalities,
        missing_municipalities,
    )
    from chalicelib.store import open_store

    deadline = None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        seconds = remaining() / 1000
        deadline = time.monotonic() + seconds - min(60.0, 0.2 * seconds)
    store = open_store(settings.store_url)
    if missing_municipalities(store, settings.municipalities):  # a new deployment, or a new code
        load_configured_municipalities(store, settings.municipalities)
    if _done_tonight(store):
        return {"status": "skipped", "reason": "tonight's refresh has finished"}
    report = refresh_job(store, settings).run(register_client(settings), deadline=deadline)
    return asdict(report)


def _done_tonight(store: Store, within_hours: float = 18) -> bool:
    """No open checkpoint and a successful run started less than `within_hours` ago."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.intake.cvr.refresh import STATE

    state = store.get_records(STATE, ["refresh"]).get("refresh") or {}
    if state.get("checkpoint"):
        return False
    last = state.get("last_finished_started") or state.get("last_success_started")
    if not last:
        return False
    return datetime.now(UTC) - datetime.fromisoformat(last) < timedelta(hours=within_hours)
