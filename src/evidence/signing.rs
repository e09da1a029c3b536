//! SSH signatures for evidence records (SPEC §5): producing and checking the
//! SSHSIG armor that `ssh-keygen -Y sign` writes and `ssh-keygen -Y verify`
//! reads.
//!
//! It exists so that every note in the evidence log can be re-checked with
//! stock OpenSSH and `.zen/allowed_signers`, without trusting zen-draft. So
//! the bytes we emit are exactly `ssh-keygen`'s (SHA-512 message hash, 70
//! column armor), and [`verify`] accepts nothing `ssh-keygen -Y verify` would
//! refuse.
//!
//! Signing sits behind the [`Signer`] trait with two real implementations:
//! [`KeyFileSigner`] signs in-process from an OpenSSH private key file, and
//! [`SshKeygenSigner`] runs `ssh-keygen` for the keys only it can use (keys
//! held by ssh-agent, FIDO `sk-*` keys). Tests may add their own.
//!
//! It must never:
//! - put private key material (or a passphrase) in an error, a `Debug`
//!   output or a file other than the user's own key file;
//! - prompt: a passphrase comes from `ZEN_SIGNING_KEY_PASSPHRASE` or
//!   ssh-agent, otherwise signing fails with [`SigningError::Encrypted`];
//! - sign with a key whose signatures [`verify`] cannot check: such a record
//!   could never be verified by `draft evidence verify`, so the key is refused
//!   up front ([`SigningError::UnsupportedKeyType`]). Verifiable key types are
//!   `ssh-ed25519`, `ecdsa-sha2-nistp256` and their FIDO `sk-` forms; RSA is
//!   left out on purpose (the `rsa` crate's open timing advisory and its build
//!   cost).

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ssh_key::public::KeyData;
use ssh_key::{EcdsaCurve, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use zeroize::Zeroizing;

use super::allowed_signers::AllowedSigners;

/// Path to an OpenSSH private key; wins over git's `user.signingkey`.
pub const SIGNING_KEY_ENV: &str = "ZEN_SIGNING_KEY";
/// Passphrase for an encrypted private key (zen-draft never prompts).
pub const PASSPHRASE_ENV: &str = "ZEN_SIGNING_KEY_PASSPHRASE";

/// `ssh-keygen -Y sign` hashes with SHA-512; so do we, to emit the same bytes.
const HASH_ALG: HashAlg = HashAlg::Sha512;
const VERIFIABLE_TYPES: &str =
    "ssh-ed25519, ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com";

/// Produces SSHSIG armored signatures ("-----BEGIN SSH SIGNATURE-----" ...)
/// of a message in a namespace, exactly what `ssh-keygen -Y sign -n <ns>`
/// produces (sha512 hash algorithm).
///
/// `Send + Sync` so one signer can serve every request of a server.
pub trait Signer: Send + Sync {
    fn public_key(&self) -> &PublicKey;
    fn sign(&self, namespace: &str, message: &[u8]) -> Result<String, SigningError>;
}

/// Why a signature could not be made. Messages name files, never their bytes.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(
        "no signing key configured: set {SIGNING_KEY_ENV} to an OpenSSH private key, \
         or `git config user.signingkey`"
    )]
    NotConfigured,
    #[error("signing key {} does not exist", path.display())]
    KeyMissing { path: PathBuf },
    #[error(
        "signing key {} is passphrase-protected: set {PASSPHRASE_ENV} or add the key \
         to ssh-agent (zen-draft never prompts)",
        path.display()
    )]
    Encrypted { path: PathBuf },
    #[error("wrong passphrase in {PASSPHRASE_ENV} for signing key {}", path.display())]
    WrongPassphrase { path: PathBuf },
    #[error(
        "signing key {} is a public key: signing with it needs the private key in \
         ssh-agent",
        path.display()
    )]
    NotAPrivateKey { path: PathBuf },
    #[error("cannot read signing key {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "signing key {origin} is of type {algorithm}, whose signatures zen-draft cannot \
         verify; use one of: {VERIFIABLE_TYPES}"
    )]
    UnsupportedKeyType { origin: String, algorithm: String },
    #[error("invalid signature namespace {namespace:?}")]
    InvalidNamespace { namespace: String },
    #[error("cannot run ssh-keygen: {source}")]
    SshKeygenUnavailable {
        #[source]
        source: io::Error,
    },
    #[error("ssh-keygen -Y sign failed ({status}): {stderr}")]
    SshKeygenFailed { status: String, stderr: String },
    #[error("signing failed: {reason}")]
    Failed { reason: String },
}

impl SigningError {
    /// The errors SPEC §5 reports as `SIGNING_KEY_MISSING`.
    pub fn is_key_missing(&self) -> bool {
        matches!(self, Self::NotConfigured | Self::KeyMissing { .. })
    }
}

/// Why a signature was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed SSH signature: {reason}")]
    Malformed { reason: String },
    #[error("signature was made for namespace {found:?}, expected {expected:?}")]
    WrongNamespace { expected: String, found: String },
    #[error("signature uses key type {algorithm}, which zen-draft cannot verify")]
    UnsupportedAlgorithm { algorithm: String },
    #[error("signature does not match the message (record or signature altered)")]
    BadSignature,
    #[error(
        "key {fingerprint} is not allowed to sign for {principal:?} in namespace \
         {namespace:?} ({})",
        listed_text(listed_for)
    )]
    NotAllowed {
        principal: String,
        namespace: String,
        fingerprint: String,
        /// Principals the key is listed for in any namespace, for the hint.
        listed_for: Vec<String>,
    },
}

fn listed_text(principals: &[String]) -> String {
    if principals.is_empty() {
        "the key is not in allowed_signers".to_owned()
    } else {
        format!("the key is listed for: {}", principals.join(", "))
    }
}

/// Verifies an armored SSHSIG over `message` for `namespace`, requiring that
/// the signing key is allowed for `principal` in that namespace by `allowed`
/// at unix time `at`. Returns the signer's public key on success.
///
/// The same decision as `ssh-keygen -Y verify -f allowed_signers -I
/// <principal> -n <namespace>` (with `-Overify-time=<at>`).
pub fn verify(
    armored: &str,
    namespace: &str,
    message: &[u8],
    principal: &str,
    allowed: &AllowedSigners,
    at: i64,
) -> Result<PublicKey, VerifyError> {
    let signature =
        super::armor::parse(armored.trim()).map_err(|e| VerifyError::Malformed { reason: e.to_string() })?;
    // ssh-keygen verifies over an empty reserved field whatever the blob says;
    // a non-empty one could only verify here, never there.
    if !signature.reserved().is_empty() {
        return Err(VerifyError::Malformed { reason: "non-empty reserved field".to_owned() });
    }
    if signature.namespace() != namespace {
        return Err(VerifyError::WrongNamespace {
            expected: namespace.to_owned(),
            found: signature.namespace().to_owned(),
        });
    }
    if !is_verifiable(signature.public_key()) {
        return Err(VerifyError::UnsupportedAlgorithm { algorithm: signature.public_key().algorithm().to_string() });
    }
    let key = PublicKey::new(signature.public_key().clone(), "");
    verify_arithmetic(&key, namespace, message, &signature).map_err(|_| VerifyError::BadSignature)?;
    if !allowed.allows(principal, namespace, &key, at) {
        return Err(VerifyError::NotAllowed {
            principal: principal.to_owned(),
            namespace: namespace.to_owned(),
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
            listed_for: allowed.principals_for(&key),
        });
    }
    Ok(key)
}

/// The signature's arithmetic: ssh-key's check, except that a plain Ed25519
/// signature is checked by [`super::ed25519`] (the same verification
/// ssh-key's ed25519-dalek makes, on the same signed data, with faster
/// arithmetic), its key decompressed once per thread rather than once per
/// signature.
fn verify_arithmetic(key: &PublicKey, namespace: &str, message: &[u8], signature: &SshSig) -> Result<(), ()> {
    use super::ed25519::VerifyingKey;
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static KEYS: RefCell<HashMap<[u8; 32], Option<VerifyingKey>>> = RefCell::new(HashMap::new());
    }
    let KeyData::Ed25519(public) = key.key_data() else {
        return key.verify(namespace, message, signature).map_err(|_| ());
    };
    let verifying_key =
        KEYS.with(|keys| *keys.borrow_mut().entry(public.0).or_insert_with(|| VerifyingKey::from_bytes(&public.0)));
    let verifying_key = verifying_key.ok_or(())?;
    // ssh-key refuses a signature blob of another algorithm than the key's.
    if signature.signature().algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(());
    }
    let signed_data = SshSig::signed_data(namespace, signature.hash_alg(), message).map_err(|_| ())?;
    let bytes: &[u8; 64] = signature.signature_bytes().try_into().map_err(|_| ())?;
    verifying_key.verify(&signed_data, bytes).then_some(()).ok_or(())
}

/// Key types whose signatures [`verify`] checks with the enabled features.
fn is_verifiable(key: &KeyData) -> bool {
    match key {
        KeyData::Ed25519(_) | KeyData::SkEd25519(_) | KeyData::SkEcdsaSha2NistP256(_) => true,
        KeyData::Ecdsa(ecdsa) => ecdsa.curve() == EcdsaCurve::NistP256,
        _ => false,
    }
}

/// Where the key comes from, in order:
/// 1. `ZEN_SIGNING_KEY`, if set and non-empty: a path to an OpenSSH private key.
/// 2. git's `user.signingkey`, passed in by the caller: a path (private key,
///    or public key whose private half is in ssh-agent, as git allows), or a
///    literal public key `key::ssh-ed25519 AAAA...` (or the older bare
///    `ssh-ed25519 AAAA...`), which git signs with through ssh-agent.
///
/// A leading `~/` is expanded with `HOME`. Unencrypted (or
/// `ZEN_SIGNING_KEY_PASSPHRASE`-unlocked) Ed25519 and ECDSA P-256 key files
/// sign in-process ([`KeyFileSigner`]); everything that needs ssh-agent or a
/// hardware key goes through [`SshKeygenSigner`]. An encrypted key without a
/// passphrase goes to ssh-agent only when `SSH_AUTH_SOCK` is set, else fails
/// with [`SigningError::Encrypted`].
pub fn signer_from_env(git_signing_key: Option<&str>) -> Result<Box<dyn Signer>, SigningError> {
    signer_from(&|name| std::env::var(name).ok(), git_signing_key)
}

/// [`signer_from_env`] with the environment passed in, so tests and the demo
/// can name keys without touching the process environment.
pub fn signer_from(
    env: &dyn Fn(&str) -> Option<String>,
    git_signing_key: Option<&str>,
) -> Result<Box<dyn Signer>, SigningError> {
    let non_empty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let passphrase = non_empty(env(PASSPHRASE_ENV)).map(Zeroizing::new);
    let passphrase = passphrase.as_ref().map(|p| p.as_str());
    let agent = non_empty(env("SSH_AUTH_SOCK")).is_some();

    if let Some(path) = non_empty(env(SIGNING_KEY_ENV)) {
        return signer_for_file(&expand_home(path.trim(), env), passphrase, agent);
    }
    let configured = git_signing_key.map(str::trim).filter(|v| !v.is_empty()).ok_or(SigningError::NotConfigured)?;
    if let Some(literal) =
        configured.strip_prefix("key::").or_else(|| configured.starts_with("ssh-").then_some(configured))
    {
        let key = PublicKey::from_openssh(literal.trim()).map_err(|e| SigningError::Unreadable {
            path: PathBuf::from("user.signingkey"),
            reason: format!("not a public key literal: {e}"),
        })?;
        return Ok(Box::new(SshKeygenSigner::for_agent_key(key)?));
    }
    signer_for_file(&expand_home(configured, env), passphrase, agent)
}

fn signer_for_file(path: &Path, passphrase: Option<&str>, agent: bool) -> Result<Box<dyn Signer>, SigningError> {
    match KeyFileSigner::load_with_passphrase(path, passphrase) {
        Ok(signer) => Ok(Box::new(signer)),
        Err(SigningError::Encrypted { .. }) if agent => Ok(Box::new(SshKeygenSigner::new(path)?)),
        Err(SigningError::NotAPrivateKey { .. } | SigningError::UnsupportedKeyType { .. }) => {
            Ok(Box::new(SshKeygenSigner::new(path)?))
        }
        Err(e) => Err(e),
    }
}

fn expand_home(path: &str, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match (path.strip_prefix("~/"), env("HOME")) {
        (Some(rest), Some(home)) if !home.is_empty() => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Signs in-process with an OpenSSH private key file (Ed25519 or ECDSA P-256).
pub struct KeyFileSigner {
    path: PathBuf,
    key: PrivateKey,
}

impl std::fmt::Debug for KeyFileSigner {
    // Hand-written so that no private field can ever reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFileSigner")
            .field("path", &self.path)
            .field("key", &self.key.fingerprint(HashAlg::Sha256).to_string())
            .finish()
    }
}

impl KeyFileSigner {
    /// Loads `path`; an encrypted key is unlocked with
    /// `ZEN_SIGNING_KEY_PASSPHRASE` when that is set and non-empty.
    pub fn load(path: &Path) -> Result<Self, SigningError> {
        let passphrase = std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(Zeroizing::new);
        Self::load_with_passphrase(path, passphrase.as_ref().map(|p| p.as_str()))
    }

    /// Loads `path`, unlocking it with `passphrase` if it is encrypted.
    pub fn load_with_passphrase(path: &Path, passphrase: Option<&str>) -> Result<Self, SigningError> {
        let text = read_key_file(path)?;
        let key = parse_private_key(path, &text)?;
        let key = if key.is_encrypted() {
            let passphrase = passphrase.ok_or_else(|| SigningError::Encrypted { path: path.to_owned() })?;
            key.decrypt(passphrase).map_err(|_| SigningError::WrongPassphrase { path: path.to_owned() })?
        } else {
            key
        };
        let signs_in_process = match key.public_key().key_data() {
            KeyData::Ed25519(_) => true,
            KeyData::Ecdsa(ecdsa) => ecdsa.curve() == EcdsaCurve::NistP256,
            _ => false,
        };
        if !signs_in_process {
            return Err(SigningError::UnsupportedKeyType {
                origin: path.display().to_string(),
                algorithm: key.algorithm().to_string(),
            });
        }
        Ok(Self { path: path.to_owned(), key })
    }
}

impl Signer for KeyFileSigner {
    fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    fn sign(&self, namespace: &str, message: &[u8]) -> Result<String, SigningError> {
        check_namespace(namespace)?;
        let signature =
            self.key.sign(namespace, HASH_ALG, message).map_err(|e| SigningError::Failed { reason: e.to_string() })?;
        signature.to_pem(LineEnding::LF).map_err(|e| SigningError::Failed { reason: e.to_string() })
    }
}

/// Empty namespaces are invalid in SSHSIG; whitespace would not survive
/// `ssh-keygen`'s command line unchanged either.
fn check_namespace(namespace: &str) -> Result<(), SigningError> {
    if namespace.is_empty() || namespace.contains(char::is_whitespace) {
        return Err(SigningError::InvalidNamespace { namespace: namespace.to_owned() });
    }
    Ok(())
}

/// Reads a key file into memory that is wiped when dropped.
fn read_key_file(path: &Path) -> Result<Zeroizing<String>, SigningError> {
    let bytes = Zeroizing::new(fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SigningError::KeyMissing { path: path.to_owned() },
        _ => SigningError::Unreadable { path: path.to_owned(), reason: e.to_string() },
    })?);
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(SigningError::Unreadable { path: path.to_owned(), reason: "not a text key file".to_owned() }),
    }
}

/// Tells the user which kind of file they pointed at; never echoes it.
fn parse_private_key(path: &Path, text: &str) -> Result<PrivateKey, SigningError> {
    let unreadable = |reason: String| SigningError::Unreadable { path: path.to_owned(), reason };
    if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
        return PrivateKey::from_openssh(text).map_err(|e| unreadable(format!("invalid OpenSSH private key ({e})")));
    }
    if text.contains("PRIVATE KEY-----") {
        return Err(unreadable(format!(
            "PEM/PKCS#8 private keys are not supported; convert it to the OpenSSH format \
             with `ssh-keygen -p -f {}`",
            path.display()
        )));
    }
    if PublicKey::from_openssh(text.trim()).is_ok() {
        return Err(SigningError::NotAPrivateKey { path: path.to_owned() });
    }
    Err(unreadable("not an OpenSSH private key".to_owned()))
}

/// Signs by shelling out to `ssh-keygen -Y sign -f <key> -n <ns>` (works with
/// keys ssh-keygen can use, incl. via ssh-agent when given a public key path).
///
/// `ssh-keygen` runs with no terminal input and `SSH_ASKPASS_REQUIRE=never`,
/// so it cannot prompt: a locked key that ssh-agent does not hold fails with
/// [`SigningError::Encrypted`]. A FIDO key still waits for its touch; the
/// "confirm user presence" notice is captured, not shown.
#[derive(Debug)]
pub struct SshKeygenSigner {
    /// The file handed to `-f`; `None` for a literal agent key, which is
    /// written to a scratch file for each signature.
    key_file: Option<PathBuf>,
    public_key: PublicKey,
    /// Extra child environment (tests point `SSH_AUTH_SOCK` at their agent).
    env: Vec<(OsString, OsString)>,
}

impl SshKeygenSigner {
    /// Uses the key at `key_path`: a private key file, or a public key file
    /// (then ssh-agent must hold the private half).
    pub fn new(key_path: &Path) -> Result<Self, SigningError> {
        let text = read_key_file(key_path)?;
        let public_key = match PublicKey::from_openssh(text.trim()) {
            Ok(key) => key,
            Err(_) => match parse_private_key(key_path, &text) {
                Ok(private) => private.public_key().clone(),
                Err(e) => {
                    // ssh-keygen also finds the public half in `<key>.pub`.
                    let mut pub_path = key_path.as_os_str().to_owned();
                    pub_path.push(".pub");
                    let pub_text = fs::read_to_string(&pub_path).map_err(|_| e)?;
                    PublicKey::from_openssh(pub_text.trim()).map_err(|e| SigningError::Unreadable {
                        path: PathBuf::from(&pub_path),
                        reason: format!("invalid public key ({e})"),
                    })?
                }
            },
        };
        Self::build(Some(key_path.to_owned()), public_key)
    }

    /// Uses the ssh-agent key with this public half (git's `key::` form).
    pub fn for_agent_key(public_key: PublicKey) -> Result<Self, SigningError> {
        Self::build(None, public_key)
    }

    fn build(key_file: Option<PathBuf>, public_key: PublicKey) -> Result<Self, SigningError> {
        let signer = Self { key_file, public_key, env: Vec::new() };
        if !is_verifiable(signer.public_key.key_data()) {
            return Err(SigningError::UnsupportedKeyType {
                origin: signer.origin().display().to_string(),
                algorithm: signer.public_key.algorithm().to_string(),
            });
        }
        Ok(signer)
    }

    fn origin(&self) -> PathBuf {
        (self.key_file.clone()).unwrap_or_else(|| PathBuf::from("user.signingkey (ssh-agent)"))
    }
}

impl Signer for SshKeygenSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn sign(&self, namespace: &str, message: &[u8]) -> Result<String, SigningError> {
        check_namespace(namespace)?;
        let scratch = ScratchDir::new()
            .map_err(|e| SigningError::Failed { reason: format!("cannot create a temporary directory: {e}") })?;
        let io_failed = |e: io::Error| SigningError::Failed { reason: format!("temporary file: {e}") };
        let message_path = scratch.path.join("message");
        fs::write(&message_path, message).map_err(io_failed)?;
        let key_path = match &self.key_file {
            Some(path) => path.clone(),
            None => {
                let path = scratch.path.join("key.pub");
                let text = self.public_key.to_openssh().map_err(|e| SigningError::Failed { reason: e.to_string() })?;
                fs::write(&path, text + "\n").map_err(io_failed)?;
                path
            }
        };
        let output = Command::new("ssh-keygen")
            .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
            .arg(&key_path)
            .arg(&message_path)
            .env("SSH_ASKPASS_REQUIRE", "never")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .map_err(|source| SigningError::SshKeygenUnavailable { source })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("incorrect passphrase") {
                return Err(SigningError::Encrypted { path: self.origin() });
            }
            let stderr = stderr.lines().filter(|l| !l.starts_with("Enter passphrase"));
            return Err(SigningError::SshKeygenFailed {
                status: output.status.to_string(),
                stderr: stderr.collect::<Vec<_>>().join("; "),
            });
        }
        let armored = fs::read_to_string(scratch.path.join("message.sig")).map_err(io_failed)?;
        // Never hand out a signature we would refuse later (wrong key, odd output).
        let check = SshSig::from_pem(armored.trim())
            .ok()
            .filter(|sig| sig.public_key() == self.public_key.key_data())
            .is_some_and(|sig| self.public_key.verify(namespace, message, &sig).is_ok());
        if !check {
            return Err(SigningError::Failed {
                reason: "ssh-keygen returned a signature that does not verify with the key".to_owned(),
            });
        }
        Ok(armored)
    }
}

/// A private (0700) temporary directory, removed on drop.
struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    fn new() -> io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        loop {
            let count = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = format!("zen-draft-sign-{}-{nanos}-{count}", std::process::id());
            let path = std::env::temp_dir().join(name);
            match builder.create(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
