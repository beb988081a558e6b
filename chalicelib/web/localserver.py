"""The embedded HTTP server: Chalice's local gateway on a threaded http.server.

It runs the same app object and routes as Lambda behind API Gateway does.
"""

from __future__ import annotations

import orjson
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LocalDevServer,
    LocalGatewayException,
)


class _Handler(ChaliceRequestHandler):
    # Headers and body leave in two writes; without TCP_NODELAY a small response waits for the
    # client's delayed ACK (about 40 ms on Linux).
    disable_nagle_algorithm = True

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # Chalice's gateway mimics API Gateway's 403 "Missing Authentication Token" for a path
        # with no route; answer what it is: a 404 with the usual error document.
        if isinstance(error, ForbiddenError) and b"Missing Authentication Token" in (
            error.body or b""
        ):
            body = orjson.dumps(
                {
                    "code": "NotFound",
                    "description": f"no route {self.path.split('?')[0]}; start at /",
                }
            )
            self._send_http_response(404, {"Content-Type": "application/json"}, body)
            return
        super()._send_error_response(error)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (an unknown method, a bad request line) as JSON; a method
        no route offers is a 405, as API Gateway answers it, not a 501 HTML page."""
        if code == 501:
            code, doc = (
                405,
                {"code": "MethodNotAllowed", "description": f"{self.command} is not supported"},
            )
        else:
            doc = {"code": "BadRequest", "description": message or "bad request"}
        body = orjson.dumps(doc)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if getattr(self.server, "quiet", False):
            return
        super().log_message(format, *args)


def make_server(host: str = "127.0.0.1", port: int = 8000, quiet: bool = False) -> LocalDevServer:
    """A server for the Mikrokort app; port 0 picks a free port (see `server.server_port`)."""
    from app import app

    server = LocalDevServer(app, Config.create(lambda_timeout=30), host, port, handler_cls=_Handler)
    server.server.quiet = quiet  # type: ignore[attr-defined]
    return server
