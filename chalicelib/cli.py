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
