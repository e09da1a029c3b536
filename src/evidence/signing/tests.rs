//! Signing and verification against the real peer, `ssh-keygen`, in both
//! directions. Every key is generated fresh in a temp dir.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

use super::*;

const EVIDENCE: &str = "zen-draft-evidence";
const APPLY: &str = "zen-draft-apply";
const RECORD: &[u8] = b"{\"draft_id\":\"0193a7c2\",\"event\":\"draft_created\",\"merkle_position\":0}\n";
const NOW: i64 = 1_795_000_000;

fn run(command: &mut Command) -> std::process::Output {
    let output = command.output().expect("run ssh-keygen");
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// `ssh-keygen -t <kind> -N <passphrase> -f <dir>/<name> -C test`.
fn keygen(dir: &Path, name: &str, kind: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    run(Command::new("ssh-keygen").args(["-q", "-t", kind, "-N", passphrase, "-C", "test", "-f"]).arg(&path));
    path
}

fn public_line(key: &Path) -> String {
    let text = fs::read_to_string(key.with_extension("pub")).unwrap();
    text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// `ssh-keygen -Y sign -f <key> -n <ns>` over `message`; returns the armor.
fn ssh_keygen_sign(dir: &Path, key: &Path, namespace: &str, message: &[u8]) -> String {
    let message_path = dir.join("peer-message");
    fs::write(&message_path, message).unwrap();
    let _ = fs::remove_file(dir.join("peer-message.sig"));
    run(Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .arg(&message_path)
        .stdin(Stdio::null()));
    fs::read_to_string(dir.join("peer-message.sig")).unwrap()
}

/// `ssh-keygen -Y verify -f allowed_signers -I <principal> -n <ns> -s sig < message`.
fn ssh_keygen_accepts(
    dir: &Path,
    allowed: &str,
    principal: &str,
    namespace: &str,
    armored: &str,
    message: &[u8],
) -> bool {
    let (allowed_path, sig_path, message_path) =
        (dir.join("allowed_signers"), dir.join("record.sig"), dir.join("record"));
    fs::write(&allowed_path, allowed).unwrap();
    fs::write(&sig_path, armored).unwrap();
    fs::write(&message_path, message).unwrap();
    Command::new("ssh-keygen")
        .args(["-Y", "verify", "-I", principal, "-n", namespace, "-f"])
        .arg(&allowed_path)
        .arg("-s")
        .arg(&sig_path)
        .stdin(fs::File::open(&message_path).unwrap())
        .output()
        .unwrap()
        .status
        .success()
}

struct Fixture {
    dir: TempDir,
    alice: PathBuf,
    allowed_text: String,
}

/// alice may sign evidence and applies; ops-bot (another key) only evidence.
fn fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    let alice = keygen(dir.path(), "alice", "ed25519", "");
    let bot = keygen(dir.path(), "bot", "ed25519", "");
    let allowed_text = format!(
        "# who may sign\nalice namespaces=\"{EVIDENCE},{APPLY}\" {}\nops-bot namespaces=\"{EVIDENCE}\" {}\n",
        public_line(&alice),
        public_line(&bot)
    );
    Fixture { dir, alice, allowed_text }
}

impl Fixture {
    fn allowed(&self) -> AllowedSigners {
        AllowedSigners::parse(&self.allowed_text).unwrap()
    }

    fn key(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn peer_accepts(&self, principal: &str, namespace: &str, armored: &str, message: &[u8]) -> bool {
        ssh_keygen_accepts(self.dir.path(), &self.allowed_text, principal, namespace, armored, message)
    }
}

#[test]
fn key_file_signature_verifies_with_ssh_keygen_and_matches_its_bytes() {
    let f = fixture();
    let signer = KeyFileSigner::load_with_passphrase(&f.alice, None).unwrap();
    let armored = signer.sign(EVIDENCE, RECORD).unwrap();
    assert!(armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
    assert!(f.peer_accepts("alice", EVIDENCE, &armored, RECORD));
    // Ed25519 is deterministic: same key, message and namespace, same bytes.
    assert_eq!(armored, ssh_keygen_sign(f.dir.path(), &f.alice, EVIDENCE, RECORD));
    let key = verify(&armored, EVIDENCE, RECORD, "alice", &f.allowed(), NOW).unwrap();
    assert_eq!(key.key_data(), signer.public_key().key_data());
}

#[test]
fn ssh_keygen_signature_verifies_with_ours() {
    let f = fixture();
    let armored = ssh_keygen_sign(f.dir.path(), &f.key("bot"), EVIDENCE, RECORD);
    let key = verify(&armored, EVIDENCE, RECORD, "ops-bot", &f.allowed(), NOW).unwrap();
    assert_eq!(key.to_openssh().unwrap(), public_line(&f.key("bot")));
}

#[test]
fn ssh_keygen_signer_output_verifies_with_both() {
    let f = fixture();
    let signer = without_agent(SshKeygenSigner::new(&f.alice).unwrap());
    let armored = signer.sign(APPLY, RECORD).unwrap();
    assert!(f.peer_accepts("alice", APPLY, &armored, RECORD));
    verify(&armored, APPLY, RECORD, "alice", &f.allowed(), NOW).unwrap();
}

#[test]
fn ecdsa_p256_key_file_signs_for_both_verifiers() {
    let f = fixture();
    let key = keygen(f.dir.path(), "ecdsa", "ecdsa", "");
    let allowed = format!("carol {}\n", public_line(&key));
    let armored = KeyFileSigner::load_with_passphrase(&key, None).unwrap().sign(EVIDENCE, RECORD).unwrap();
    assert!(ssh_keygen_accepts(f.dir.path(), &allowed, "carol", EVIDENCE, &armored, RECORD));
    let allowed = AllowedSigners::parse(&allowed).unwrap();
    verify(&armored, EVIDENCE, RECORD, "carol", &allowed, NOW).unwrap();
}

#[test]
fn agent_key_signs_through_ssh_keygen() {
    let f = fixture();
    let socket = f.dir.path().join("agent.sock");
    let agent =
        AgentGuard(Command::new("ssh-agent").args(["-D", "-a"]).arg(&socket).stdout(Stdio::null()).spawn().unwrap());
    for _ in 0..100 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    run(Command::new("ssh-add").arg(&f.alice).env("SSH_AUTH_SOCK", &socket).stderr(Stdio::null()));
    fs::remove_file(&f.alice).unwrap(); // only the agent holds it now
    let public = PublicKey::from_openssh(&public_line(&f.alice)).unwrap();
    let mut signer = SshKeygenSigner::for_agent_key(public).unwrap();
    signer.env.push(("SSH_AUTH_SOCK".into(), socket.into()));
    let armored = signer.sign(APPLY, RECORD).unwrap();
    assert!(f.peer_accepts("alice", APPLY, &armored, RECORD));
    verify(&armored, APPLY, RECORD, "alice", &f.allowed(), NOW).unwrap();
    drop(agent);
}

/// Keeps the developer's own ssh-agent out of a test.
fn without_agent(mut signer: SshKeygenSigner) -> SshKeygenSigner {
    signer.env.push(("SSH_AUTH_SOCK".into(), "".into()));
    signer
}

struct AgentGuard(Child);

impl Drop for AgentGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn wrong_namespace_is_refused() {
    let f = fixture();
    let armored = KeyFileSigner::load_with_passphrase(&f.alice, None).unwrap().sign(EVIDENCE, RECORD).unwrap();
    assert!(!f.peer_accepts("alice", APPLY, &armored, RECORD));
    let err = verify(&armored, APPLY, RECORD, "alice", &f.allowed(), NOW).unwrap_err();
    assert!(
        matches!(&err, VerifyError::WrongNamespace { expected, found } if expected == APPLY && found == EVIDENCE),
        "{err}"
    );
}

#[test]
fn wrong_principal_is_refused() {
    let f = fixture();
    let armored = ssh_keygen_sign(f.dir.path(), &f.alice, EVIDENCE, RECORD);
    assert!(!f.peer_accepts("mallory", EVIDENCE, &armored, RECORD));
    let err = verify(&armored, EVIDENCE, RECORD, "mallory", &f.allowed(), NOW).unwrap_err();
    assert!(matches!(&err, VerifyError::NotAllowed { principal, .. } if principal == "mallory"));
}

#[test]
fn key_listed_for_another_principal_is_refused() {
    let f = fixture();
    // The bot's key claiming to be alice: an agent posing as a human.
    let armored = ssh_keygen_sign(f.dir.path(), &f.key("bot"), EVIDENCE, RECORD);
    assert!(!f.peer_accepts("alice", EVIDENCE, &armored, RECORD));
    let err = verify(&armored, EVIDENCE, RECORD, "alice", &f.allowed(), NOW).unwrap_err();
    let VerifyError::NotAllowed { listed_for, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(listed_for, &["ops-bot"]);
    assert!(err.to_string().contains("listed for: ops-bot"), "{err}");
}

#[test]
fn key_listed_without_the_namespace_is_refused() {
    let f = fixture();
    let armored = ssh_keygen_sign(f.dir.path(), &f.key("bot"), APPLY, RECORD);
    assert!(!f.peer_accepts("ops-bot", APPLY, &armored, RECORD));
    let err = verify(&armored, APPLY, RECORD, "ops-bot", &f.allowed(), NOW).unwrap_err();
    assert!(matches!(err, VerifyError::NotAllowed { .. }), "{err}");
}

#[test]
fn tampered_message_is_refused() {
    let f = fixture();
    let armored = ssh_keygen_sign(f.dir.path(), &f.alice, EVIDENCE, RECORD);
    let mut tampered = RECORD.to_vec();
    tampered[20] ^= 1;
    assert!(!f.peer_accepts("alice", EVIDENCE, &armored, &tampered));
    let err = verify(&armored, EVIDENCE, &tampered, "alice", &f.allowed(), NOW).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature), "{err}");
}

#[test]
fn tampered_signature_is_refused() {
    let f = fixture();
    let armored = ssh_keygen_sign(f.dir.path(), &f.alice, EVIDENCE, RECORD);
    // The last armor line holds the tail of the Ed25519 signature bytes.
    let mut lines: Vec<String> = armored.lines().map(str::to_owned).collect();
    let last = lines.len() - 2;
    let flipped = if lines[last].as_bytes()[5] == b'A' { "B" } else { "A" };
    lines[last].replace_range(5..6, flipped);
    let tampered = lines.join("\n") + "\n";
    assert!(!f.peer_accepts("alice", EVIDENCE, &tampered, RECORD));
    let err = verify(&tampered, EVIDENCE, RECORD, "alice", &f.allowed(), NOW).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature), "{err}");
}

#[test]
fn garbage_signature_is_malformed() {
    let f = fixture();
    for garbage in ["", "not a signature", "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"] {
        let err = verify(garbage, EVIDENCE, RECORD, "alice", &f.allowed(), NOW).unwrap_err();
        assert!(matches!(err, VerifyError::Malformed { .. }), "{err}");
    }
}

#[test]
fn expired_valid_before_is_refused() {
    let f = fixture();
    let allowed_text = format!("alice valid-before=\"20200101Z\" {}\n", public_line(&f.alice));
    let armored = ssh_keygen_sign(f.dir.path(), &f.alice, EVIDENCE, RECORD);
    assert!(!ssh_keygen_accepts(f.dir.path(), &allowed_text, "alice", EVIDENCE, &armored, RECORD));
    let allowed = AllowedSigners::parse(&allowed_text).unwrap();
    let err = verify(&armored, EVIDENCE, RECORD, "alice", &allowed, NOW).unwrap_err();
    assert!(matches!(err, VerifyError::NotAllowed { .. }), "{err}");
    // The same entry held before its expiry.
    verify(&armored, EVIDENCE, RECORD, "alice", &allowed, 1_500_000_000).unwrap();
}

#[test]
fn missing_key_file_is_key_missing() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nope");
    let err = KeyFileSigner::load_with_passphrase(&path, None).unwrap_err();
    assert!(matches!(&err, SigningError::KeyMissing { path: p } if *p == path), "{err}");
    assert!(err.is_key_missing());
    let err = SshKeygenSigner::new(&path).unwrap_err();
    assert!(matches!(err, SigningError::KeyMissing { .. }), "{err}");
}

#[test]
fn encrypted_key_without_passphrase_says_so() {
    let dir = TempDir::new().unwrap();
    let key = keygen(dir.path(), "locked", "ed25519", "secret");
    let err = KeyFileSigner::load_with_passphrase(&key, None).unwrap_err();
    assert!(matches!(err, SigningError::Encrypted { .. }), "{err}");
    assert!(err.to_string().contains(PASSPHRASE_ENV), "{err}");
    // Through ssh-keygen (no agent) it fails the same way instead of prompting.
    let err = without_agent(SshKeygenSigner::new(&key).unwrap()).sign(EVIDENCE, RECORD).unwrap_err();
    assert!(matches!(err, SigningError::Encrypted { .. }), "{err}");
}

#[test]
fn encrypted_key_with_passphrase_signs() {
    let f = fixture();
    let key = keygen(f.dir.path(), "locked", "ed25519", "secret");
    let err = KeyFileSigner::load_with_passphrase(&key, Some("guess-7731")).unwrap_err();
    assert!(matches!(err, SigningError::WrongPassphrase { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains("guess-7731"), "passphrase leaked: {err}");
    let env = env_of(&[(PASSPHRASE_ENV, "secret"), (SIGNING_KEY_ENV, key.to_str().unwrap())]);
    let signer = signer_from(&env, None).unwrap();
    let armored = signer.sign(EVIDENCE, RECORD).unwrap();
    let allowed = format!("alice {}\n", public_line(&key));
    assert!(ssh_keygen_accepts(f.dir.path(), &allowed, "alice", EVIDENCE, &armored, RECORD));
}

#[test]
fn unreadable_key_errors_name_the_path_and_never_the_bytes() {
    let dir = TempDir::new().unwrap();
    let key = keygen(dir.path(), "real", "ed25519", "");
    let secret_text = fs::read_to_string(&key).unwrap();
    let secret_line = secret_text.lines().nth(2).unwrap().to_owned();
    let corrupt = dir.path().join("corrupt");
    fs::write(&corrupt, secret_text.replace(&secret_line, &secret_line[..20])).unwrap();
    let garbage = dir.path().join("garbage");
    fs::write(&garbage, "hunter2 this is no key\n").unwrap();
    let pem = dir.path().join("pem");
    fs::write(&pem, "-----BEGIN RSA PRIVATE KEY-----\nMIIsecret\n-----END RSA PRIVATE KEY-----\n").unwrap();
    for path in [&corrupt, &garbage, &pem] {
        let err = KeyFileSigner::load_with_passphrase(path, None).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, SigningError::Unreadable { .. }), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        for secret in [&secret_line[..20], "hunter2", "MIIsecret"] {
            assert!(!text.contains(secret), "key bytes leaked: {text}");
        }
    }
    let debug = format!("{:?}", KeyFileSigner::load_with_passphrase(&key, None).unwrap());
    assert!(!debug.contains(&secret_line[..20]) && debug.contains("SHA256:"), "{debug}");
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| vars.get(name).cloned()
}

#[test]
fn signer_from_env_prefers_zen_signing_key_over_git() {
    let f = fixture();
    let env = env_of(&[(SIGNING_KEY_ENV, f.alice.to_str().unwrap())]);
    let signer = signer_from(&env, Some(f.key("bot").to_str().unwrap())).unwrap();
    assert_eq!(public_line_of(signer.as_ref()), public_line(&f.alice));
    // Empty means unset: git's key is used.
    let env = env_of(&[(SIGNING_KEY_ENV, "  ")]);
    let signer = signer_from(&env, Some(f.key("bot").to_str().unwrap())).unwrap();
    assert_eq!(public_line_of(signer.as_ref()), public_line(&f.key("bot")));
}

fn public_line_of(signer: &dyn Signer) -> String {
    PublicKey::new(signer.public_key().key_data().clone(), "").to_openssh().unwrap()
}

#[test]
fn signer_from_env_without_any_key_is_not_configured() {
    for git in [None, Some(""), Some("   ")] {
        let err = signer_from(&env_of(&[]), git).err().unwrap();
        assert!(matches!(err, SigningError::NotConfigured) && err.is_key_missing(), "{err}");
    }
}

#[test]
fn signer_from_env_expands_home() {
    let f = fixture();
    let env = env_of(&[("HOME", f.dir.path().to_str().unwrap())]);
    let signer = signer_from(&env, Some("~/alice")).unwrap();
    assert_eq!(public_line_of(signer.as_ref()), public_line(&f.alice));
    let err = signer_from(&env, Some("~/missing")).err().unwrap();
    assert!(matches!(&err, SigningError::KeyMissing { path } if *path == f.key("missing")));
}

#[test]
fn signer_from_env_routes_public_keys_and_literals_to_ssh_keygen() {
    let f = fixture();
    let literal = format!("key::{}", public_line(&f.alice));
    let pub_path = f.key("alice.pub");
    for git in [literal.as_str(), pub_path.to_str().unwrap()] {
        let signer = signer_from(&env_of(&[]), Some(git)).unwrap();
        assert_eq!(public_line_of(signer.as_ref()), public_line(&f.alice));
    }
    let err = signer_from(&env_of(&[]), Some("key::ssh-ed25519 AAAAbroken")).err().unwrap();
    assert!(matches!(err, SigningError::Unreadable { .. }), "{err}");
}

#[test]
fn unverifiable_key_types_are_refused_before_signing() {
    let dir = TempDir::new().unwrap();
    let rsa = keygen(dir.path(), "rsa", "rsa", "");
    let err = signer_from(&env_of(&[(SIGNING_KEY_ENV, rsa.to_str().unwrap())]), None).err().unwrap();
    assert!(matches!(&err, SigningError::UnsupportedKeyType { algorithm, .. } if algorithm == "ssh-rsa"), "{err}");
    let err = signer_from(&env_of(&[]), Some(&format!("key::{}", public_line(&rsa)))).err().unwrap();
    assert!(matches!(err, SigningError::UnsupportedKeyType { .. }), "{err}");
}

#[test]
fn empty_namespace_is_refused() {
    let f = fixture();
    let signer = KeyFileSigner::load_with_passphrase(&f.alice, None).unwrap();
    assert!(matches!(signer.sign("", RECORD), Err(SigningError::InvalidNamespace { .. })));
}
