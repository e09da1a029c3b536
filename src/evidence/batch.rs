//! Checking many record signatures at once, for what a listing shows.
//!
//! A listing in a fresh CI clone checks every draft's signatures; one at a
//! time, Ed25519 verification is most of its cost. Checked together (one
//! multiscalar equation, see [`Batch`]) a set costs a fraction of that. Everything
//! that is not arithmetic (the armor, the namespace, the reserved field, the
//! key type, whether `allowed_signers` lists the key for the principal at
//! that time) is checked for each signature exactly as [`signing::verify`]
//! checks it; only the curve arithmetic is shared. A batch that fails is
//! re-checked signature by signature, so a bad signature fails alone.
//!
//! Batch and single verification agree except on signatures whose `R` point
//! carries a small-order component, which only the holder of the private key
//! can make and which no honest signer produces. Single verification (and
//! `ssh-keygen`) rejects such a signature; a batch holding it passes when
//! its random weight is a multiple of the component's order (one time in
//! two at worst), and the listing then shows, and remembers, the record as
//! verified. Telling such an `R` apart costs a scalar multiplication, as
//! much as checking the signature alone, so this is used only where the
//! answer is shown (`list`, the dashboard): what decides (`show`,
//! `validate`, `apply`, `gc` and `evidence verify`) uses
//! [`signing::verify`], which accepts exactly what `ssh-keygen -Y verify`
//! accepts, so a signer who forges its own record this way only makes its
//! draft look backed in a listing, and unappliable.
//!
//! Must never: report a signature as good that fails any non-arithmetic check
//! of [`signing::verify`], or one whose batch failed without checking it alone.

use super::allowed_signers::AllowedSigners;
use super::ed25519::{self, VerifyingKey};
use super::signing;
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ssh_key::public::KeyData;
use ssh_key::rand_core::{OsRng, RngCore};
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
    for (index, claim) in claims.iter().enumerate() {
        let Some((signature, key)) = screen(claim, allowed) else { continue };
        let batched = SshSig::signed_data(claim.namespace, signature.hash_alg(), claim.message)
            .is_ok_and(|data| batch.push(index, &signature, &key, data));
        if !batched {
            // Other key types, or a key or point we do not batch: one at a time.
            verdicts[index] =
                signing::verify(claim.armored, claim.namespace, claim.message, claim.principal, allowed, claim.at)
                    .is_ok()
        }
    }
    batch.finish(&mut verdicts);
    verdicts
}

/// The checks of [`signing::verify`] that are not arithmetic; the parsed
/// signature and its key when they all pass.
fn screen(claim: &Claim<'_>, allowed: &AllowedSigners) -> Option<(SshSig, PublicKey)> {
    let signature = super::armor::parse(claim.armored.trim()).ok()?;
    if !signature.reserved().is_empty() || signature.namespace() != claim.namespace {
        return None;
    }
    let key = PublicKey::new(signature.public_key().clone(), "");
    allowed.allows(claim.principal, claim.namespace, &key, claim.at).then_some((signature, key))
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

/// Plain Ed25519 signatures checked together. With random 128-bit weights
/// `z`, one multiscalar equation
///
/// `[-Σ zᵢsᵢ]B + Σ [zᵢ]Rᵢ + Σ_A [Σ_{i signed by A} zᵢhᵢ]A = 0`
///
/// holds for a set of good signatures and, but for a 2^-128 chance, fails
/// when one is bad: ed25519-dalek's batch equation with each key's terms
/// gathered first. A listing's records are signed by a handful of keys, so
/// the equation has one point per signature rather than two, and each key
/// is decompressed once.
#[derive(Default)]
struct Batch {
    /// Distinct keys: encoding and key (its point, and to check alone).
    keys: Vec<([u8; 32], VerifyingKey)>,
    /// Key encoding to its place in `keys`, or `None` for one not batched.
    key_at: HashMap<[u8; 32], Option<usize>>,
    /// Per signature: claim index, key, signed data, signature and `R`.
    entries: Vec<Entry>,
}

struct Entry {
    index: usize,
    key: usize,
    data: Vec<u8>,
    /// `R` then `s`, as signed.
    signature: [u8; 64],
    s: Scalar,
    r: EdwardsPoint,
}

impl Batch {
    /// Takes a plain Ed25519 signature whose key is torsion-free and whose
    /// `R` is canonically encoded (single verification compares encodings,
    /// so a non-canonical `R` never verifies alone) and whose `s` is reduced;
    /// false for anything else, to be checked alone.
    fn push(&mut self, index: usize, signature: &SshSig, key: &PublicKey, data: Vec<u8>) -> bool {
        let KeyData::Ed25519(public) = key.key_data() else { return false };
        if signature.signature().algorithm() != ssh_key::Algorithm::Ed25519 {
            return false;
        }
        let Some(key) = self.key(public.0) else { return false };
        let Ok(bytes) = <[u8; 64]>::try_from(signature.signature_bytes()) else { return false };
        let Some((r_bytes, s)) = ed25519::split(&bytes) else { return false };
        if !canonical_point(r_bytes) {
            return false;
        }
        let Some(r) = CompressedEdwardsY(*r_bytes).decompress() else { return false };
        self.entries.push(Entry { index, key, data, signature: bytes, s, r });
        true
    }

    /// The place of a torsion-free key in `keys`, decompressing it once.
    fn key(&mut self, bytes: [u8; 32]) -> Option<usize> {
        if let Some(at) = self.key_at.get(&bytes) {
            return *at;
        }
        let key = VerifyingKey::from_bytes(&bytes).filter(|key| key.point().is_torsion_free());
        let at = key.map(|key| {
            self.keys.push((bytes, key));
            self.keys.len() - 1
        });
        self.key_at.insert(bytes, at);
        at
    }

    /// Verifies the batch; if it fails, each signature alone.
    fn finish(self, verdicts: &mut [bool]) {
        if self.entries.is_empty() {
            return;
        }
        let all_good = self.holds();
        for entry in &self.entries {
            verdicts[entry.index] = all_good || self.keys[entry.key].1.verify(&entry.data, &entry.signature);
        }
    }

    /// Whether the batch equation holds; without random weights, it is
    /// not checked (and each signature is checked alone).
    fn holds(&self) -> bool {
        let mut weights = vec![0u8; 16 * self.entries.len()];
        if OsRng.try_fill_bytes(&mut weights).is_err() {
            return false;
        }
        let mut base = Scalar::ZERO;
        let mut per_key = vec![Scalar::ZERO; self.keys.len()];
        let mut r_weights = Vec::with_capacity(self.entries.len());
        for (entry, weight) in self.entries.iter().zip(weights.chunks_exact(16)) {
            let z = Scalar::from(u128::from_le_bytes(weight.try_into().expect("16 bytes")));
            let h = ed25519::challenge(&entry.signature[..32], &self.keys[entry.key].0, &entry.data);
            base -= z * entry.s;
            per_key[entry.key] += z * h;
            r_weights.push(z);
        }
        let scalars = std::iter::once(base).chain(r_weights).chain(per_key);
        let points = std::iter::once(ED25519_BASEPOINT_POINT)
            .chain(self.entries.iter().map(|entry| entry.r))
            .chain(self.keys.iter().map(|(_, key)| key.point()));
        EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity()
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

    /// The equation itself, not the one-by-one fallback: good signatures by
    /// two keys (so each key's terms are gathered) pass as a batch, and one
    /// signature over another message, or one weight on the wrong key, fails it.
    #[test]
    fn the_batch_equation_holds_exactly_for_good_signatures() {
        let (alice, bob) = (key(), key());
        let messages: Vec<Vec<u8>> = (0..12).map(|i| format!("record {i}\n").into_bytes()).collect();
        let signed: Vec<(SshSig, PublicKey)> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let who = if i % 4 == 0 { &bob } else { &alice };
                (who.sign("zen-draft-evidence", HashAlg::Sha512, m).unwrap(), who.public_key().clone())
            })
            .collect();
        let batch_of = |messages: &[Vec<u8>]| {
            let mut batch = Batch::default();
            for (i, ((signature, key), message)) in signed.iter().zip(messages).enumerate() {
                let data = SshSig::signed_data("zen-draft-evidence", signature.hash_alg(), message).unwrap();
                assert!(batch.push(i, signature, key, data));
            }
            batch
        };
        let good = batch_of(&messages);
        assert_eq!(good.keys.len(), 2, "each key once");
        assert!(good.holds());
        let mut verdicts = vec![false; messages.len()];
        good.finish(&mut verdicts);
        assert!(verdicts.iter().all(|ok| *ok));

        let mut other = messages.clone();
        other[5] = b"record 5, changed\n".to_vec();
        let spoiled = batch_of(&other);
        assert!(!spoiled.holds());
        let mut verdicts = vec![true; messages.len()];
        spoiled.finish(&mut verdicts);
        assert_eq!(verdicts.iter().filter(|ok| !**ok).count(), 1);
        assert!(!verdicts[5]);

        let mut swapped = batch_of(&messages);
        swapped.entries[1].key = 1 - swapped.entries[1].key;
        assert!(!swapped.holds(), "a signature counted under the other key");
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
