//! One module per page.

mod account;
mod auth;
mod consent;
mod home;
mod invite;
mod members;
mod not_found;
mod orgs;
mod tokens;

pub use account::AccountPage;
pub use auth::{LoginPage, SignupPage};
pub use consent::ConsentPage;
pub use home::HomePage;
pub use invite::InvitePage;
pub use members::MembersAdminPage;
pub use not_found::NotFoundPage;
pub use orgs::{NewOrgPage, OrgPage};
pub use tokens::TokensPage;
