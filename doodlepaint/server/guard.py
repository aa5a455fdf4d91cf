"""What the server trusts: which Host names, which browser origins, which body types.

A server without a token on 127.0.0.1 is still reachable from any web page the user opens: a page may
POST a "simple" request (text/plain, no preflight) or open a WebSocket to localhost, and a DNS-rebinding
page may call the server under its own name. So, as Jupyter's and VS Code's servers do, every request and
WebSocket must name an allowed Host, and a browser's Origin must be this server itself or one the operator
allowed (`--allow-origin`); a JSON body must say it is JSON. Requests without an Origin (every non-browser
client: the app, curl, httpx) are not cross-site and pass the origin check.
"""
from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")


def host_name(address: str) -> str:
    """An address as it appears in a Host header: IPv6 in brackets."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The Host names a server listening on `bind` answers to: loopback, the address it listens on, and
    `extra` (--allow-host). Listening on every interface (0.0.0.0) needs a token anyway; without an
    --allow-host it answers to any name, since the names other machines use for it cannot be known here."""
    extra = tuple(host_name(name.lower()) for name in extra)
    if bind in WILDCARD_ADDRESSES and not extra:
        return ("*",)
    return tuple(dict.fromkeys((*LOOPBACK_NAMES, *(() if bind in WILDCARD_ADDRESSES else (host_name(bind.lower()),)),
                                *extra)))


def normal_origin(origin: str) -> str:
    """scheme://host[:port], lower case, as browsers send it (no path, no trailing slash)."""
    parts = urllib.parse.urlsplit(origin.strip().lower())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else origin.strip().lower()


class OriginGuard:
    """Refuses a browser request or WebSocket from another site (403), and a POST whose body is not
    declared JSON (415): a cross-site page can send text/plain or a form without a preflight."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str] = (), json_posts: Iterable[str] = ()):
        self.app = app
        self.allowed = {normal_origin(origin) for origin in allowed_origins}
        self.json_posts = tuple(json_posts)

    def origin_allowed(self, origin: str, host: str) -> bool:
        if "*" in self.allowed or normal_origin(origin) in self.allowed:
            return True
        parts = urllib.parse.urlsplit(origin.lower())
        return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host.lower()   # this server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(origin, headers.get("host", "")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "cross-origin WebSocket refused"})
            else:
                await JSONResponse({"detail": f"requests from {origin} are refused: this server answers its own "
                                              "pages and the origins given with --allow-origin"},
                                   status_code=403)(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.json_posts:
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/json":
                await JSONResponse({"detail": "a job is JSON: send it with 'Content-Type: application/json', "
                                              f"not {media_type or 'no content type'}"},
                                   status_code=415)(scope, receive, send)
                return
        await self.app(scope, receive, send)
