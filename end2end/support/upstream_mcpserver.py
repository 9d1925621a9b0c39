"""An organization's own MCP server behind Gatehouse's gateway, written with the official MCP
Python SDK (2.x `MCPServer`, formerly FastMCP), answering over Streamable HTTP with SSE. It
accepts only Gatehouse's signed caller assertion, checked offline with PyJWT (a JOSE library)
against Gatehouse's published keys: issuer, audience = this server's own URL, expiry, EdDSA.

Environment: GATEHOUSE (its issuer URL), UPSTREAM_SECRET (if set, the X-Api-Key it expects).
Prints "READY <port>" once it listens on 127.0.0.1 (a free port); its endpoint is
http://127.0.0.1:<port>/mcp.

Tools: `whoami` (read-only: what the assertion said), `delete_record` (marked destructive),
`slow` (sleeps `seconds`; notes when a call tagged `tag` starts and is cancelled), `calls` (those
notes), `count_to` (reports progress, then answers), `find_record` (a link to a record).
Prompt: `summarize`. Resources: `crm://about`, template `crm://records/{record_id}`.
"""

import asyncio
import logging
import os
import socket
import sys

import jwt
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ResourceLink, ToolAnnotations

logging.getLogger("mcp").setLevel(logging.WARNING)  # one line per session otherwise
GATEHOUSE = os.environ["GATEHOUSE"]
SECRET = os.environ.get("UPSTREAM_SECRET")

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)  # connections wait in the backlog until the server accepts them
PORT = sock.getsockname()[1]
URL = f"http://127.0.0.1:{PORT}/mcp"
keys = jwt.PyJWKClient(f"{GATEHOUSE}/.well-known/jwks.json")


class GatehouseAssertion(TokenVerifier):
    """Believes a bearer token only if Gatehouse signed it for this server, and it is fresh."""

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            key = await asyncio.to_thread(keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["EdDSA"],
                audience=URL,
                issuer=GATEHOUSE,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError as e:
            print(f"refused a token: {e}", file=sys.stderr, flush=True)
            return None
        return AccessToken(
            token=token,
            client_id=claims.get("client_id") or "gatehouse",
            scopes=[],
            expires_at=claims["exp"],
            subject=claims["sub"],
            claims=claims,
        )


server = MCPServer(
    "acme-crm",
    token_verifier=GatehouseAssertion(),
    auth=AuthSettings(
        issuer_url=GATEHOUSE,
        resource_server_url=URL,
        validate_token_resource=False,
    ),
)


def caller() -> dict:
    token = get_access_token()
    return dict(token.claims or {}) if token else {}


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def whoami() -> dict:
    """Who Gatehouse says is calling."""
    c = caller()
    return {k: c.get(k) for k in ("sub", "email", "org", "org_id", "role", "scope", "aud", "iss", "jti")}


@server.tool(annotations=ToolAnnotations(destructiveHint=True))
def delete_record(record_id: str) -> str:
    """Deletes a CRM record."""
    return f"deleted {record_id} for {caller().get('email')}"


CALLS: dict[str, list[str]] = {"started": [], "cancelled": []}


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def slow(seconds: float, tag: str = "") -> str:
    """Answers after a while."""
    CALLS["started"].append(tag)
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        CALLS["cancelled"].append(tag)
        raise
    return "done"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def calls() -> dict:
    """The tags of the slow calls that started, and of those cancelled."""
    return CALLS


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def find_record(record_id: str) -> list:
    """A link to a CRM record."""
    return [ResourceLink(type="resource_link", name=f"record {record_id}", uri=f"crm://records/{record_id}")]


@server.resource("crm://about", name="about", mime_type="text/plain")
def about() -> str:
    """What this CRM is."""
    return "Acme's CRM."


@server.resource("crm://records/{record_id}", name="record", mime_type="text/plain")
def record(record_id: str) -> str:
    """A CRM record, as the caller may see it."""
    return f"Record {record_id}, read by {caller().get('email')} ({caller().get('role')})."


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def count_to(n: int, ctx: Context) -> str:
    """Counts, reporting progress."""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n)
        await asyncio.sleep(0.05)  # as real work would: each report on its way before the next
    return f"counted to {n}"


@server.prompt()
def summarize(topic: str) -> str:
    """Summarize a CRM topic for the caller."""
    return f"Summarize {topic} for {caller().get('email')} ({caller().get('role')})."


app = server.streamable_http_app(
    json_response=False,
    transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
)


async def check_secret(scope, receive, send):
    """The secret header Gatehouse was told to send, when one is set."""
    if SECRET and scope["type"] == "http":
        headers = dict(scope["headers"])
        if headers.get(b"x-api-key", b"").decode() != SECRET:
            await send({"type": "http.response.start", "status": 403, "headers": []})
            await send({"type": "http.response.body", "body": b"wrong api key"})
            return
    await app(scope, receive, send)


async def main() -> None:
    config = uvicorn.Config(check_secret, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    print(f"READY {PORT}", flush=True)
    await srv.serve(sockets=[sock])


asyncio.run(main())
