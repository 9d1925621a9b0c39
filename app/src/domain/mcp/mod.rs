//! The MCP resource server's tools: what each needs (least role, scope) and what it does. Who
//! is calling is the access decision's answer ([`crate::domain::access`]); the server's MCP
//! endpoint parses the protocol and calls these.

pub mod tools;
