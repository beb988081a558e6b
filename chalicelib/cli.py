"""The `mikrokort` command: run the service locally and manage its data."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.store import Store


def _serve(args: argparse.Namespace) -> int:
    import logging

    from chalicelib.config import Settings
    from chalicelib.routes import ROUTES
    from chalicelib.services import Services
    from chalicelib.web.wsgi import ServerOptions, WsgiApp, make_server

    settings = Settings.from_env()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        # reachable from other machines: the development secrets would be public knowledge
        settings.require_secrets()
    app = WsgiApp(ROUTES, Services(settings))
    options = ServerOptions(threads=args.threads, trusted_proxy=settings.trusted_proxy)
    server = make_server(app, args.host, args.port, options)
    logging.getLogger("waitress").setLevel(logging.WARNING if args.quiet else logging.INFO)
    print(f"Mikrokort serving on http://{args.host}:{server.effective_port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


def _seed(args: argparse.Namespace) -> int:
    from chalicelib.config import Settings
    from chalicelib.demo.seed import seed_demo
    from chalicelib.store import open_store

    if not args.demo:
        print("nothing to seed: use `mikrokort seed --demo`", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    store = open_store(settings.store_url)
    results = seed_demo(store, count=args.count, progress=lambda m: print(m, flush=True))
    for name, r in results.items():
        print(f"{name}: {r.inserted} new, {r.updated} updated, {r.unchanged} unchanged")
    print(f"store: {settings.store_url} (synthetic demo data)")
    if not args.no_snapshot:
        _demo_snapshot(store, settings)
    store.close()
    return 0


def _demo_snapshot(store: Store, settings: Settings) -> None:
    """Publish last year's snapshot of the demo data once, so /snapshots and the barometer
    have something to show."""
    from datetime import UTC, datetime

    from chalicelib.blobs import open_blobs
    from chalicelib.publishing.barometer import load_parameters
    from chalicelib.publishing.snapshot import SnapshotPublisher, published

    year = datetime.now(UTC).year - 1
    blobs = open_blobs(settings.blobs_url, settings.blobs_public_url)
    if any(m["year"] == year for m in published(blobs)):
        print(f"snapshot {year}: published already")
        return
    params = load_parameters(settings.barometer_config)
    manifest = SnapshotPublisher(
        store, blobs, settings.municipalities, params=params, public_url=settings.public_url
    ).publish(year)
    print(f"snapshot {year}: published ({len(manifest['files'])} files)")


def _init(args: argparse.Namespace) -> int:
    from chalicelib.config import Settings
    from chalicelib.intake.reference import load_configured_municipalities
    from chalicelib.store import open_store

    settings = Settings.from_env()
    store = open_store(settings.store_url)
    created = store.create_table()
    print(f"{settings.store_url}: {'created' if created else 'ready (already there)'}")
    loaded = load_configured_municipalities(store, settings.municipalities)
    names = ", ".join(settings.municipalities)
    print(
        f"municipalities {names}: {loaded.inserted} new, {loaded.updated} updated, "
        f"{loaded.unchanged} unchanged (DAGI boundaries)"
    )
    if settings.blobs_url.startswith("s3://"):
        from chalicelib.blobs import open_blobs

        made = open_blobs(settings.blobs_url).create_bucket()  # type: ignore[attr-defined]
        print(f"{settings.blobs_url}: {'created' if made else 'ready (already there)'}")
    return 0


class _ProgressBar:
    """A one-line progress bar on a terminal; plain periodic lines in logs."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        import time

        now = time.monotonic()
        if not self.tty and now - self._last < 5 and (total is None or done < total):
            return
        self._last = now
        if total:
            filled = min(30, int(30 * done / total))
            text = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,}"
        else:
            text = f"{self.label} {done:,} documents"
        print(("\r" + text) if self.tty else text, end="" if self.tty else "\n", file=sys.stderr)
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def _print_report(report) -> None:
    print(
        f"{report.mode} run {report.run_id}: {report.status}; {report.documents:,} documents, "
        f"{report.new:,} new, {report.updated:,} updated, {report.unchanged:,} unchanged, "
        f"{report.ceased:,} ceased, {report.moved_out:,} moved out, "
        f"{report.quarantined:,} quarantined; geocoder: {report.geocoder_calls:,} calls, "
        f"{report.geocode_cache_hits:,} from cache, {report.geocode_failed:,} failed"
        + (f"; resumed {report.resumed}x" if report.resumed else "")
    )


def _refresh(args: argparse.Namespace) -> int:
    from chalicelib.config import Settings
    from chalicelib.intake.cvr.jobs import refresh_job, register_client
    from chalicelib.store import open_store

    settings = Settings.from_env()
    client = register_client(settings, page_size=args.page_size)
    store = open_store(settings.store_url)
    bar = _ProgressBar("refresh") if not args.quiet else None
    try:
        report = refresh_job(store, settings, bar).run(client, full=args.full)
    finally:
        if bar:
            bar.close()
    _print_report(report)
    return 0


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from chalicelib.config import Settings
    from chalicelib.domain.errors import InvalidParameter
    from chalicelib.intake.cvr.jobs import refresh_job
    from chalicelib.intake.cvr.refresh import read_jsonl
    from chalicelib.store import open_store

    if not Path(args.file).is_file():
        raise InvalidParameter(f"no such file: {args.file}")
    settings = Settings.from_env()
    store = open_store(settings.store_url)
    bar = _ProgressBar("import") if not args.quiet else None
    try:
        report = refresh_job(store, settings, bar).import_documents(read_jsonl(args.file))
    finally:
        if bar:
            bar.close()
    _print_report(report)
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from chalicelib.blobs import open_blobs
    from chalicelib.config import Settings
    from chalicelib.publishing.barometer import load_parameters
    from chalicelib.publishing.snapshot import SnapshotPublisher
    from chalicelib.store import open_store

    settings = Settings.from_env()
    blobs = open_blobs(settings.blobs_url, settings.blobs_public_url)
    bar = _ProgressBar("snapshot") if not args.quiet else None
    publisher = SnapshotPublisher(
        open_store(settings.store_url),
        blobs,
        settings.municipalities,
        params=load_parameters(settings.barometer_config),
        progress=(lambda done: bar(done, None)) if bar else None,
        public_url=settings.public_url,
    )
    try:
        manifest = publisher.publish(args.year, new_revision=args.new_revision)
    finally:
        if bar:
            bar.close()
    size = sum(f["size"] for f in manifest["files"])
    print(
        f"published {manifest['year']} revision {manifest['revision']}: "
        f"{len(manifest['files'])} files, {size:,} bytes, under {settings.blobs_url} "
        f"{manifest['prefix']}/"
    )
    return 0


def _barometer(args: argparse.Namespace) -> int:
    """Print or write the barometer: one release for all covered municipalities; with
    --municipality one release each (written to --output as a folder when there are several),
    or one for them together with --together."""
    from pathlib import Path

    from chalicelib.blobs import open_blobs
    from chalicelib.config import Settings
    from chalicelib.domain.errors import InvalidParameter
    from chalicelib.publishing.publications import barometer
    from chalicelib.store import open_store
    from chalicelib.web.http import HttpRequest

    settings = Settings.from_env()
    codes = [c.strip() for value in args.municipality or [] for c in value.split(",")]
    if any(not c for c in codes):
        raise InvalidParameter("--municipality needs a kommunekode such as 376")
    selections = [",".join(codes)] if args.together or len(codes) <= 1 else codes
    if len(selections) > 1 and not args.output:
        raise InvalidParameter(
            "several releases need --output FOLDER (or --together for one release)"
        )
    store = open_store(settings.store_url)
    blobs = open_blobs(settings.blobs_url, settings.blobs_public_url)
    for selection in selections:
        params = {"f": [args.format], "lang": [args.lang]}
        if selection:
            params["municipality"] = [selection]
        req = HttpRequest(
            path=f"/barometer/{args.year}",
            params=params,
            headers={},
            base_url="",
            settings=settings,
        )
        resp = barometer(store, blobs, settings.municipalities, req, str(args.year))
        if len(selections) > 1:
            folder = Path(args.output)
            folder.mkdir(parents=True, exist_ok=True)
            name = f"barometer-{args.year}-{selection[-3:]}_{args.lang}.{args.format}"
            (folder / name).write_bytes(resp.body)
            print(f"wrote {folder / name}")
        elif args.output:
            Path(args.output).write_bytes(resp.body)
            print(f"wrote {args.output}")
        else:
            sys.stdout.write(resp.body.decode())
    return 0


def _keys(args: argparse.Namespace) -> int:
    from chalicelib.config import Settings
    from chalicelib.curation import auth
    from chalicelib.store import open_store

    store = open_store(Settings.from_env().store_url)
    if args.action == "create":
        key = auth.create_key(store, args.name or "", args.scope or [], args.network or [])
        print(key)
        print("store it now: it is not kept and cannot be shown again", file=sys.stderr)
    elif args.action == "revoke":
        auth.revoke_key(store, args.id or "")
        print(f"revoked {args.id}")
    else:
        for key_id, doc in auth.list_keys(store):
            state = f"revoked {doc['revoked']}" if doc.get("revoked") else "active"
            scopes = ",".join(doc["scopes"])
            networks = ",".join(doc.get("networks") or []) or "-"
            print(f"{key_id}  {doc['name']}  {scopes}  {networks}  {doc['created']}  {state}")
    return 0


def _runs(args: argparse.Namespace) -> int:
    from chalicelib.config import Settings
    from chalicelib.intake.cvr.refresh import QUARANTINE, last_runs
    from chalicelib.store import open_store

    store = open_store(Settings.from_env().store_url)
    for report in last_runs(store, args.limit):
        _print_report(report)
        if report.error:
            print(f"  error: {report.error}")
    quarantined = store.list_records(QUARANTINE, limit=args.limit)
    for key, doc in quarantined:
        print(f"quarantined {key}: {doc.get('reason')} (run {doc.get('run_id')})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mikrokort", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API on 127.0.0.1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--quiet", action="store_true", help="only warnings and errors")
    serve.add_argument(
        "--threads", type=int, default=8, help="requests answered at once (default 8)"
    )
    serve.set_defaults(run=_serve)
    init = sub.add_parser("init", help="create the table and indexes where missing")
    init.set_defaults(run=_init)
    seed = sub.add_parser("seed", help="load data into the configured store")
    seed.add_argument("--demo", action="store_true", help="the synthetic demo data set")
    seed.add_argument("--count", type=int, default=5000, help="number of demo businesses")
    seed.add_argument(
        "--no-snapshot", action="store_true", help="do not publish last year's demo snapshot"
    )
    seed.set_defaults(run=_seed)
    refresh = sub.add_parser("refresh", help="update the store from the CVR register")
    refresh.add_argument("--full", action="store_true", help="reload the municipalities")
    refresh.add_argument("--quiet", action="store_true", help="no progress bar")
    refresh.add_argument("--page-size", type=int, default=1000, help="documents per request")
    refresh.set_defaults(run=_refresh)
    load = sub.add_parser("import", help="load CVR documents from a JSON-lines file")
    load.add_argument("file", help="one company document or search hit per line")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(run=_import)
    snap = sub.add_parser("snapshot", help="publish a year's open-data snapshot (once)")
    snap.add_argument("--year", type=int, required=True)
    snap.add_argument(
        "--new-revision",
        action="store_true",
        help="publish another revision beside an already published year (never overwrites)",
    )
    snap.add_argument("--quiet", action="store_true", help="no progress")
    snap.set_defaults(run=_snapshot)
    baro = sub.add_parser("barometer", help="print a year's barometer or press release")
    baro.add_argument("--year", type=int, required=True)
    baro.add_argument("--format", choices=["json", "md", "html"], default="md")
    baro.add_argument("--lang", choices=["da", "en"], default="da")
    baro.add_argument(
        "--output",
        help="write to this file instead of standard output (a folder for several releases)",
    )
    baro.add_argument(
        "--municipality",
        action="append",
        metavar="CODE",
        help="a release for this kommunekode only (repeatable or comma-separated: one each)",
    )
    baro.add_argument(
        "--together",
        action="store_true",
        help="one release for all the --municipality codes together",
    )
    baro.set_defaults(run=_barometer)
    keys = sub.add_parser("keys", help="create, list and revoke API keys for the write routes")
    keys.add_argument("action", choices=["create", "list", "revoke"])
    keys.add_argument("--name", help="who the key is for (create)")
    keys.add_argument(
        "--scope", action="append", choices=["networks:write", "admin"], help="repeatable"
    )
    keys.add_argument(
        "--network",
        action="append",
        metavar="ID",
        help="a network a networks:write key may edit (create; repeatable, required for it)",
    )
    keys.add_argument("--id", help="the key id to revoke (the part after mk_)")
    keys.set_defaults(run=_keys)
    runs = sub.add_parser("runs", help="the last refresh runs and quarantined documents")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(run=_runs)
    return parser


def main(argv: list[str] | None = None) -> int:
    from chalicelib.domain.errors import MikrokortError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except MikrokortError as exc:
        print(f"mikrokort: {exc.description}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
