//! The MCP resource server's rules: who a bearer token speaks for (`bearer`) and what each tool
//! needs and does (`tools`). The server's MCP endpoint parses the protocol and calls these.

pub mod bearer;
pub mod tools;
