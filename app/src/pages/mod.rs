//! One module per page.

mod account;
mod admin_audit;
mod admin_clients;
mod admin_settings;
mod admin_sso;
mod admin_tokens;
mod auth;
mod connected_apps;
mod consent;
mod home;
mod invite;
mod members;
mod not_found;
mod oauth_apps;
mod orgs;
mod password_reset;
mod tokens;
mod verify_email;

pub use account::AccountPage;
pub use admin_audit::AdminAuditPage;
pub use admin_clients::{AdminClientPage, AdminClientsPage, NewAdminClientPage};
pub use admin_settings::AdminSettingsPage;
pub use admin_sso::AdminSsoPage;
pub use admin_tokens::AdminTokensPage;
pub use auth::{LoginPage, SecondFactorPage, SignupPage};
pub use connected_apps::ConnectedAppsPage;
pub use consent::ConsentPage;
pub use home::HomePage;
pub use invite::InvitePage;
pub use members::MembersAdminPage;
pub use not_found::NotFoundPage;
pub use oauth_apps::{NewOAuthAppPage, OAuthAppPage, OAuthAppsPage};
pub use orgs::{NewOrgPage, OrgPage};
pub use password_reset::{ForgotPasswordPage, ResetPasswordPage};
pub use tokens::TokensPage;
pub use verify_email::VerifyEmailPage;
