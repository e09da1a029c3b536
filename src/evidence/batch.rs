//! Checking many record signatures at once, for what a listing shows.
//!
//! A listing in a fresh CI clone checks every draft's signatures; one at a
//! time, Ed25519 verification is most of its cost. ed25519-dalek's batch
//! verification checks a whole set in about a third of the time. Everything
//! that is not arithmetic (the armor, the namespace, the reserved field, the
//! key type, whether `allowed_signers` lists the key for the principal at
//! that time) is checked for each signature exactly as [`signing::verify`]
//! checks it; only the curve arithmetic is shared. A batch that fails is
//! re-checked signature by signature, so a bad signature fails alone.
//!
//! Batch and single verification agree except on signatures whose `R` point
//! carries a small-order component, which only the holder of the private key
//! can make and which no honest signer produces. So this is used only where
//! the answer is shown (`list`, the dashboard), never where it decides:
//! `validate`, `apply`, `gc` and `evidence verify` use [`signing::verify`],
//! which accepts exactly what `ssh-keygen -Y verify` accepts.
//!
//! Must never: report a signature as good that fails any non-arithmetic check
//! of [`signing::verify`], or one whose batch failed without checking it alone.

use super::allowed_signers::AllowedSigners;
use super::signing;
use curve25519_dalek::edwards::CompressedEdwardsY;
use ssh_key::public::KeyData;
use ssh_key::{PublicKey, SshSig};
use std::collections::HashMap;

/// One signature to check: the armor, and what it must sign for.
pub struct Claim<'a> {
    pub armored: &'a str,
    pub namespace: &'a str,
    pub message: &'a [u8],
    pub principal: &'a str,
    /// Unix time at which the key must be allowed.
    pub at: i64,
}

/// Whether each claim's signature verifies, in order.
pub fn verify_all(claims: &[Claim<'_>], allowed: &AllowedSigners) -> Vec<bool> {
    let mut verdicts = vec![false; claims.len()];
    let mut batch = Batch::default();
    let mut torsion_free: HashMap<[u8; 32], bool> = HashMap::new();
    for (index, claim) in claims.iter().enumerate() {
        let Some((signature, key)) = screen(claim, allowed) else { continue };
        match plain_ed25519(&signature, &key, &mut torsion_free) {
            Some((verifying_key, ed_signature)) => {
                if let Ok(data) = SshSig::signed_data(claim.namespace, signature.hash_alg(), claim.message) {
                    batch.push(index, data, ed_signature, verifying_key);
                }
            }
            // Other key types, or a key or point we do not batch: one at a time.
            None => {
                verdicts[index] =
                    signing::verify(claim.armored, claim.namespace, claim.message, claim.principal, allowed, claim.at)
                        .is_ok()
            }
        }
    }
    batch.finish(&mut verdicts);
    verdicts
}

/// The checks of [`signing::verify`] that are not arithmetic; the parsed
/// signature and its key when they all pass.
fn screen(claim: &Claim<'_>, allowed: &AllowedSigners) -> Option<(SshSig, PublicKey)> {
    let signature = SshSig::from_pem(claim.armored.trim()).ok()?;
    if !signature.reserved().is_empty() || signature.namespace() != claim.namespace {
        return None;
    }
    let key = PublicKey::new(signature.public_key().clone(), "");
    allowed.allows(claim.principal, claim.namespace, &key, claim.at).then_some((signature, key))
}

/// The dalek key and signature of a plain Ed25519 SSH signature we may batch:
/// a torsion-free key, and an `R` in canonical encoding (single verification
/// compares encodings, so a non-canonical `R` never verifies alone).
fn plain_ed25519(
    signature: &SshSig,
    key: &PublicKey,
    torsion_free: &mut HashMap<[u8; 32], bool>,
) -> Option<(ed25519_dalek::VerifyingKey, ed25519_dalek::Signature)> {
    let KeyData::Ed25519(public) = key.key_data() else { return None };
    if signature.signature().algorithm() != ssh_key::Algorithm::Ed25519 {
        return None;
    }
    let bytes = public.0;
    let clean = *torsion_free
        .entry(bytes)
        .or_insert_with(|| CompressedEdwardsY(bytes).decompress().is_some_and(|point| point.is_torsion_free()));
    if !clean {
        return None;
    }
    let verifying_key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()?;
    let ed_signature = ed25519_dalek::Signature::from_slice(signature.signature_bytes()).ok()?;
    canonical_point(&ed_signature.r_bytes()[..].try_into().ok()?).then_some((verifying_key, ed_signature))
}

/// Whether 32 bytes are the canonical encoding of a curve point's `y` and
/// sign: `y` below 2^255 - 19, and no sign bit on the two points with `x = 0`.
fn canonical_point(bytes: &[u8; 32]) -> bool {
    let sign = bytes[31] >> 7;
    let mut y = *bytes;
    y[31] &= 0x7f;
    let p_minus_one = {
        let mut p = [0xffu8; 32];
        p[0] = 0xec;
        p[31] = 0x7f;
        p
    };
    let at_least_p = y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed;
    let one = {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    };
    !at_least_p && !(sign == 1 && (y == one || y == p_minus_one))
}

#[derive(Default)]
struct Batch {
    indices: Vec<usize>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<ed25519_dalek::Signature>,
    keys: Vec<ed25519_dalek::VerifyingKey>,
}

impl Batch {
    fn push(
        &mut self,
        index: usize,
        message: Vec<u8>,
        signature: ed25519_dalek::Signature,
        key: ed25519_dalek::VerifyingKey,
    ) {
        self.indices.push(index);
        self.messages.push(message);
        self.signatures.push(signature);
        self.keys.push(key);
    }

    /// Verifies the batch; if it fails, each signature alone.
    fn finish(self, verdicts: &mut [bool]) {
        let messages: Vec<&[u8]> = self.messages.iter().map(Vec::as_slice).collect();
        let all_good =
            !messages.is_empty() && ed25519_dalek::verify_batch(&messages, &self.signatures, &self.keys).is_ok();
        for (i, &index) in self.indices.iter().enumerate() {
            verdicts[index] = all_good || {
                use ed25519_dalek::Verifier;
                self.keys[i].verify(messages[i], &self.signatures[i]).is_ok()
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssh_key::{HashAlg, LineEnding, PrivateKey};

    fn key() -> PrivateKey {
        PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519).unwrap()
    }

    #[test]
    fn batch_verdicts_are_the_single_verdicts() {
        let (alice, bob) = (key(), key());
        let allowed = AllowedSigners::parse(&format!(
            "alice namespaces=\"zen-draft-evidence\" {}\nbob {}\n",
            alice.public_key().to_openssh().unwrap(),
            bob.public_key().to_openssh().unwrap()
        ))
        .unwrap();
        let messages: Vec<Vec<u8>> = (0..40).map(|i| format!("record {i}\n").into_bytes()).collect();
        let mut armors: Vec<(String, &str)> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let (who, name) = if i % 3 == 0 { (&bob, "bob") } else { (&alice, "alice") };
                (who.sign("zen-draft-evidence", HashAlg::Sha512, m).unwrap().to_pem(LineEnding::LF).unwrap(), name)
            })
            .collect();
        // Spoil some: a signature over another message, the wrong principal,
        // the wrong namespace, garbage.
        armors[5].0 = armors[6].0.clone();
        armors[7].1 = "bob";
        armors[11].0 =
            alice.sign("zen-draft-apply", HashAlg::Sha512, &messages[11]).unwrap().to_pem(LineEnding::LF).unwrap();
        armors[13].0 = "not a signature".into();
        let claims: Vec<Claim<'_>> = armors
            .iter()
            .zip(&messages)
            .map(|((armored, principal), message)| Claim {
                armored,
                namespace: "zen-draft-evidence",
                message,
                principal,
                at: 0,
            })
            .collect();
        let single: Vec<bool> = claims
            .iter()
            .map(|c| signing::verify(c.armored, c.namespace, c.message, c.principal, &allowed, c.at).is_ok())
            .collect();
        assert_eq!(verify_all(&claims, &allowed), single);
        assert_eq!(single.iter().filter(|ok| !**ok).count(), 4);
    }

    #[test]
    fn non_canonical_points_are_not_batched() {
        let mut y = [0xffu8; 32];
        y[31] = 0x7f;
        assert!(!canonical_point(&y), "y = 2^255 - 1");
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(canonical_point(&one));
        one[31] = 0x80;
        assert!(!canonical_point(&one), "x = 0 with the sign bit set");
        let basepoint = curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes();
        assert!(canonical_point(&basepoint));
    }
}
