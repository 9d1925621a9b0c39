//! The gateway: MCP servers an organization already has, behind Gatehouse. Its admins add
//! them ([`upstreams`]); their tools join Gatehouse's own at `/o/{org}/mcp` under the
//! server's name, each open to a least role and scope ([`catalog`]); every call carries a
//! short-lived signed assertion of who is calling ([`caller`]). The MCP transport towards the
//! upstreams is the server's (rmcp), reached through
//! [`UpstreamClient`](crate::domain::upstream_client::UpstreamClient); the rules are here.

pub mod caller;
pub mod catalog;
pub mod upstreams;
