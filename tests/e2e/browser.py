"""The browser side of the end-to-end tests: Debian's chromium (headless, through Playwright), a
local server for map tiles and for host pages of another origin, and readers of what a widget
shows. Nothing a page asks for leaves 127.0.0.1."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# axe-core (the widget's dev dependency), and a run of its WCAG 2.0/2.1 A and AA rules and best
# practice: the violations, each with up to three of its nodes
AXE = Path(__file__).resolve().parents[2] / "widget" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag',
    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
  return result.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length} nodes: ` +
    v.nodes.slice(0, 3).map(n => n.target.join(' > ')).join('; ') + ')');
}"""


def _png() -> bytes:
    """A 1x1 light grey PNG: every tile of the stub."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xe4\xe8\xe4"))
        + chunk(b"IEND", b"")
    )


class Stub:
    """A local server for tiles (any .../z/x/y.png) and for host pages of another origin."""

    def __init__(self) -> None:
        self.tiles: list[str] = []
        self.pages: dict[str, str] = {}
        png = _png()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if re.fullmatch(r".*/\d+/\d+/\d+\.png", path):
                    stub.tiles.append(path)
                    self._send(200, "image/png", png)
                elif path in stub.pages:
                    self._send(200, "text/html; charset=utf-8", stub.pages[path].encode())
                else:
                    self._send(404, "text/plain", b"not here")

            def _send(self, status: int, media: str, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", media)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the page went away while its tiles loaded

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Visit:
    """A page plus what it requested and what went wrong in it."""

    def __init__(self, browser: Any, width: int = 1100, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(m.text)
                if m.type == "error" and "favicon" not in (m.location or {}).get("url", "")
                else None
            ),
        )

    def open(self, url: str, widgets: int = 2, timeout_s: float = 20) -> Any:
        """Opens the page and waits until its `widgets` widgets are ready (or fails)."""
        self.page.goto(url)
        self.page.wait_for_function(
            "n => document.querySelectorAll('[data-mikrokort-state=ready]').length === n",
            arg=widgets,
            timeout=timeout_s * 1000,
        )
        return self.page

    def close(self) -> None:
        self.context.close()


def widget(page: Any, n: int) -> Any:
    return page.locator("[data-mikrokort]").nth(n)


def state(page: Any, n: int) -> dict[str, Any]:
    """What widget n shows: its status, what its map draws, its texts."""
    return widget(page, n).evaluate(
        """host => {
          const r = host.shadowRoot, m = r.querySelector('.mk-map');
          const s = r.querySelector('.mk-status'), label = el => el.getAttribute('aria-label');
          const icons = [...r.querySelectorAll('.mk-cluster, .mk-pt')];
          return {
            shown: Number(s.dataset.shown), total: Number(s.dataset.total), status: s.textContent,
            count: Number(m.dataset.count),
            drawn: icons.reduce((sum, el) => sum + Number(el.dataset.count), 0),
            clusters: [...r.querySelectorAll('.mk-cluster')].map(label),
            points: [...r.querySelectorAll('.mk-pt')].map(label),
            lang: r.querySelector('.mk').getAttribute('lang'),
            search: r.querySelector('.mk-field-search span').textContent,
            listButton: r.querySelectorAll('.mk-views button')[1].textContent,
            tiles: [...r.querySelectorAll('img.leaflet-tile')].map(i => i.src),
            attribution: r.querySelector('.leaflet-control-attribution').textContent,
          };
        }"""
    )


def wait_drawn(page: Any, n: int, expected: int) -> None:
    """Until widget n's map has settled on drawing exactly `expected` businesses."""
    page.wait_for_function(
        """([n, expected]) => {
          const r = document.querySelectorAll('[data-mikrokort]')[n].shadowRoot;
          const m = r.querySelector('.mk-map');
          const icons = [...r.querySelectorAll('.mk-cluster, .mk-pt')];
          const drawn = icons.reduce((sum, el) => sum + Number(el.dataset.count), 0);
          return Number(m.dataset.count) === expected && drawn === expected;
        }""",
        arg=[n, expected],
        timeout=10_000,
    )


def click_visible_part(page: Any, locator: Any) -> None:
    """Click an element where it is not covered by another (a network pin over a cluster), as
    a person clicks the part they see; fails when no part of it is uncovered."""
    point = locator.evaluate(
        """el => {
          const b = el.getBoundingClientRect(), root = el.getRootNode();
          for (const fy of [0.5, 0.75, 0.9, 0.25, 0.1])
            for (const fx of [0.5, 0.25, 0.75, 0.1, 0.9]) {
              const x = b.x + b.width * fx, y = b.y + b.height * fy;
              const hit = root.elementFromPoint(x, y);
              if (hit && (hit === el || el.contains(hit))) return [x, y];
            }
          return null;
        }"""
    )
    assert point is not None, "the element is covered everywhere"
    page.mouse.click(*point)
