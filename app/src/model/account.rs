//! The account pages: `/account`, the two-factor step of signing in, and the org policy that
//! asks for two-factor sign-in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{OrgView, UserView};

/// Who must use two-factor sign-in to work in an org. Stored in
/// `organizations.two_factor_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "snake_case")]
pub enum TwoFactorPolicy {
    #[default]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "off"))]
    Off,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "admins"))]
    Admins,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "everyone"))]
    Everyone,
}

impl TwoFactorPolicy {
    pub const ALL: [TwoFactorPolicy; 3] = [Self::Off, Self::Admins, Self::Everyone];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Admins => "admins",
            Self::Everyone => "everyone",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "Not required",
            Self::Admins => "Required for admins",
            Self::Everyone => "Required for every member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }

    /// Whether a member with `role` must have two-factor sign-in on.
    pub fn applies_to(self, role: super::Role) -> bool {
        match self {
            Self::Off => false,
            Self::Admins => role == super::Role::Admin,
            Self::Everyone => true,
        }
    }
}

/// Everything `/account` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub user: UserView,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub orgs: Vec<OrgView>,
    pub email_verified: bool,
    /// A change of address waiting for its link to be followed.
    pub pending_email: Option<String>,
    pub two_factor: TwoFactorView,
}

/// The account's two-factor sign-in, as `/account` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorView {
    pub enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_left: u64,
    /// Set-up started and not yet confirmed with a code: what to scan or type.
    pub enrolment: Option<TotpEnrolment>,
    /// Names of the person's orgs whose policy asks them for two-factor sign-in.
    pub required_by: Vec<String>,
}

/// What an authenticator app needs: the QR code (an SVG drawn by Gatehouse) and the same key
/// as text for typing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    pub qr_svg: String,
    /// The secret in base32, grouped by four for typing.
    pub secret: String,
    pub otpauth_url: String,
}

/// The two-factor step of signing in: whose code is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorPrompt {
    pub email: String,
}

/// What a confirmation link from a mail is for, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailLinkInfo {
    pub email: String,
    /// A change of address (else: verifying the current one).
    pub change: bool,
}
