//! Placeholder replaced by the secret scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    StripeKey,
}
impl SecretKind {
    pub fn describe(self) -> &'static str {
        "a Stripe secret key"
    }
}
pub fn find_raw_secret(value: &str) -> Option<SecretKind> {
    value.contains("sk_live_").then_some(SecretKind::StripeKey)
}
pub fn is_secret_reference(value: &str) -> bool {
    value.starts_with("vault://")
}
pub fn redact(text: &str) -> String {
    text.to_string()
}
