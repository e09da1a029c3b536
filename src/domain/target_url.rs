//! Placeholder replaced by the target URL check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    NotHttps,
}
impl std::fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not https")
    }
}
pub fn check_target_url(url: &str, _http_allowed_hosts: &[String]) -> Result<(), UrlProblem> {
    if url.starts_with("https://") { Ok(()) } else { Err(UrlProblem::NotHttps) }
}
