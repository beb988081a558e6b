"""The `mikrokort` command: run the service locally and manage its data."""

from __future__ import annotations

import argparse
import contextlib
import sys


def _serve(args: argparse.Namespace) -> int:
    from .localserver import make_server

    server = make_server(args.host, args.port, quiet=args.quiet)
    print(f"Mikrokort serving on http://{args.host}:{server.server.server_port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.server.serve_forever()
    return 0


def _seed(args: argparse.Namespace) -> int:
    from .config import Settings
    from .demo.seed import seed_demo
    from .store import open_store

    if not args.demo:
        print("nothing to seed: use `mikrokort seed --demo`", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    store = open_store(settings.store_url)
    results = seed_demo(store, count=args.count, progress=lambda m: print(m, flush=True))
    for name, r in results.items():
        print(f"{name}: {r.inserted} new, {r.updated} updated, {r.unchanged} unchanged")
    print(f"store: {settings.store_url} (synthetic demo data)")
    store.close()
    return 0


def _init(args: argparse.Namespace) -> int:
    from .config import Settings
    from .store import open_store

    settings = Settings.from_env()
    store = open_store(settings.store_url)
    created = store.create_table()
    print(f"{settings.store_url}: {'created' if created else 'ready (already there)'}")
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
    from .config import Settings
    from .cvr.jobs import refresh_job, register_client
    from .store import open_store

    settings = Settings.from_env()
    client = register_client(page_size=args.page_size)
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

    from .config import Settings
    from .cvr.jobs import refresh_job
    from .cvr.refresh import read_jsonl
    from .errors import InvalidParameter
    from .store import open_store

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


def _runs(args: argparse.Namespace) -> int:
    from .config import Settings
    from .cvr.refresh import QUARANTINE, last_runs
    from .store import open_store

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
    serve.add_argument("--quiet", action="store_true", help="no request log")
    serve.set_defaults(run=_serve)
    init = sub.add_parser("init", help="create the table and indexes where missing")
    init.set_defaults(run=_init)
    seed = sub.add_parser("seed", help="load data into the configured store")
    seed.add_argument("--demo", action="store_true", help="the synthetic demo data set")
    seed.add_argument("--count", type=int, default=5000, help="number of demo businesses")
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
    runs = sub.add_parser("runs", help="the last refresh runs and quarantined documents")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(run=_runs)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import MikrokortError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except MikrokortError as exc:
        print(f"mikrokort: {exc.description}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
