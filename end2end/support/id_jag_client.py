"""An MCP client of an enterprise: the official MCP Python SDK (2.x) with its identity-assertion
provider (`IdentityAssertionOAuthProvider`, the RFC 7523 jwt-bearer grant of the MCP extension
"enterprise-managed authorization"). Its ID-JAGs come from the company's identity provider
(support/id_jag_idp.mjs): a sign-in there (leg 1, an ID token) and an RFC 8693 token exchange
of that ID token for an ID-JAG naming Gatehouse and its MCP endpoint (leg 2).

Environment:
  MCP_URL                 the MCP endpoint (e.g. http://127.0.0.1:PORT/o/acme/mcp)
  AS_ISSUER               Gatehouse's issuer (the client is provisioned for it)
  CLIENT_ID, CLIENT_SECRET        the client at Gatehouse (confidential, client_secret_basic)
  IDP, IDP_CA             the identity provider's issuer and the CA its certificate is from
  IDP_CLIENT_ID, IDP_CLIENT_SECRET  the client at the identity provider
  SUB, EMAIL              who signs in at the identity provider
  CALL                    the tool to call (default whoami)

Prints one JSON line: the tools listed, the called tool's text (or its error), what an admin's
tool (set_org_policy) answered, and how often an ID-JAG was asked for.
"""

import asyncio
import json
import os
import ssl

import httpx2
from mcp import Client
from mcp.client.auth.extensions.identity_assertion import IdentityAssertionOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

env = os.environ
asked = 0


class MemoryStorage:
    """Token storage in memory, as an app would keep them in its keychain."""

    def __init__(self) -> None:
        self.tokens = None
        self.info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.info

    async def set_client_info(self, info) -> None:
        self.info = info


async def fetch_id_jag(audience: str, resource: str) -> str:
    """Leg 1 and leg 2 at the identity provider: sign in, then exchange the ID token."""
    global asked
    asked += 1
    tls = ssl.create_default_context(cafile=env["IDP_CA"])
    async with httpx2.AsyncClient(verify=tls) as idp:
        login = await idp.get(
            f"{env['IDP']}/login",
            params={"sub": env["SUB"], "email": env.get("EMAIL", ""), "client_id": env["IDP_CLIENT_ID"]},
        )
        login.raise_for_status()
        exchanged = await idp.post(
            f"{env['IDP']}/token",
            auth=(env["IDP_CLIENT_ID"], env["IDP_CLIENT_SECRET"]),
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
                "audience": audience,
                "resource": resource,
                "subject_token": login.json()["id_token"],
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            },
        )
        exchanged.raise_for_status()
        return exchanged.json()["access_token"]


async def main() -> None:
    auth = IdentityAssertionOAuthProvider(
        server_url=env["MCP_URL"],
        storage=MemoryStorage(),
        client_id=env["CLIENT_ID"],
        client_secret=env["CLIENT_SECRET"],
        issuer=env["AS_ISSUER"],
        assertion_provider=fetch_id_jag,
        token_endpoint_auth_method="client_secret_basic",
    )
    out: dict = {}
    transport = streamable_http_client(env["MCP_URL"], http_client=create_mcp_http_client(auth=auth))
    async with Client(transport) as client:
        tools = await client.list_tools()
        out["tools"] = sorted(t.name for t in tools.tools)
        result = await client.call_tool(env.get("CALL", "whoami"), {})
        out["is_error"] = bool(result.is_error)
        out["text"] = "".join(getattr(c, "text", "") for c in result.content)
        # A second call uses the token it has: no new assertion. An admin's tool answers with
        # the member's role.
        denied = await client.call_tool("set_org_policy", {"mcp_enabled": True})
        out["admin_tool"] = {
            "is_error": bool(denied.is_error),
            "text": "".join(getattr(c, "text", "") for c in denied.content),
        }
    out["assertions_asked"] = asked
    print(json.dumps(out), flush=True)


asyncio.run(main())
