//! Plain Ed25519 verification, one signature at a time, on curve25519-dalek 5.
//!
//! ssh-key verifies through ed25519-dalek 2, which is built on
//! curve25519-dalek 4, whose AVX-512 IFMA arithmetic needs a nightly
//! compiler. curve25519-dalek 5 has it on stable Rust (chosen at run time
//! when the CPU has it; `.cargo/config.toml` compiles it in), and it makes
//! the double-base multiplication that is most of a check about 1.7 times
//! as fast. `evidence verify` checks every record alone, so this is most of
//! what it costs.
//!
//! The check is ed25519-dalek 2's `verify`, step for step: the key must
//! decompress; `s` must be below the group order; `k` is SHA-512 of `R`,
//! the key's encoding and the message, reduced; and the signature holds
//! when `[s]B - [k]A` encodes to exactly the 32 bytes of `R`. That is
//! RFC 8032's cofactorless equation, which is what `ssh-keygen -Y verify`
//! checks (it compares the same encoding), so a small-order component in
//! `R` or `A` fails here as it fails there. A test holds it to
//! ed25519-dalek on good, spoiled and degenerate signatures.
//!
//! Must never: accept a signature ed25519-dalek's `verify` rejects, or the
//! other way round.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

/// A public key, decompressed once for all the signatures it made.
#[derive(Clone, Copy)]
pub struct VerifyingKey {
    encoding: [u8; 32],
    /// `-A`: the verification equation subtracts the key's multiple.
    minus_point: EdwardsPoint,
}

impl VerifyingKey {
    /// The key with this encoding; `None` when it is not a curve point.
    pub fn from_bytes(encoding: &[u8; 32]) -> Option<VerifyingKey> {
        let point = CompressedEdwardsY(*encoding).decompress()?;
        Some(VerifyingKey { encoding: *encoding, minus_point: -point })
    }

    /// The key's point `A`.
    pub fn point(&self) -> EdwardsPoint {
        -self.minus_point
    }

    /// Whether `signature` (`R` then `s`, 64 bytes) signs `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Some((r, s)) = split(signature) else { return false };
        let k = challenge(r, &self.encoding, message);
        let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &self.minus_point, &s).compress();
        expected.as_bytes() == r
    }
}

/// A signature's `R` encoding and its `s`; `None` when `s` is not below the
/// group order (no verification accepts it then).
pub fn split(signature: &[u8; 64]) -> Option<(&[u8; 32], Scalar)> {
    let (r, s) = signature.split_first_chunk::<32>().expect("64 bytes");
    let s: [u8; 32] = s.try_into().expect("32 bytes");
    Some((r, Option::from(Scalar::from_canonical_bytes(s))?))
}

/// `k`: SHA-512 of `R`, the key's encoding and the message, reduced.
pub fn challenge(r: &[u8], key: &[u8; 32], message: &[u8]) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(r);
    hash.update(key);
    hash.update(message);
    Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, Verifier};
    use proptest::prelude::*;

    /// ed25519-dalek 2's verdict: what ssh-key, and so the tool before,
    /// accepted.
    fn reference(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(key) else { return false };
        key.verify(message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok()
    }

    fn ours(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        VerifyingKey::from_bytes(key).is_some_and(|key| key.verify(message, signature))
    }

    fn signed(seed: u8, message: &[u8]) -> ([u8; 32], [u8; 64]) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        (key.verifying_key().to_bytes(), key.sign(message).to_bytes())
    }

    /// The eight points of small order, by encoding (the torsion subgroup).
    fn small_order_points() -> Vec<[u8; 32]> {
        let torsion = curve25519_dalek::constants::EIGHT_TORSION;
        torsion.iter().map(|p| p.compress().to_bytes()).collect()
    }

    #[test]
    fn good_signatures_verify_and_spoiled_ones_do_not() {
        for seed in 0..20u8 {
            let message = format!("record {seed}\n").into_bytes();
            let (key, signature) = signed(seed, &message);
            assert!(ours(&key, &message, &signature));
            assert!(!ours(&key, b"another record\n", &signature));
            let (other_key, _) = signed(seed.wrapping_add(100), &message);
            assert!(!ours(&other_key, &message, &signature));
        }
    }

    /// The cases where Ed25519 verifiers are known to part ways: `s` at or
    /// past the group order, a small-order key or `R`, a non-canonical
    /// encoding of `R`, and `R` with a small-order point added.
    #[test]
    fn degenerate_signatures_get_the_reference_verdict() {
        let message = b"record\n".to_vec();
        let (key, signature) = signed(7, &message);
        // ℓ, the group order, little-endian.
        let mut order = [0u8; 32];
        order[..16].copy_from_slice(&[
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        ]);
        order[31] = 0x10;
        assert!(bool::from(Scalar::from_canonical_bytes(order).is_none()) && order[31] & 0xe0 == 0);
        let mut cases: Vec<([u8; 32], [u8; 64])> = Vec::new();
        // s + ℓ: the same residue, not canonical.
        let mut past = signature;
        let s = Scalar::from_canonical_bytes(signature[32..].try_into().unwrap()).unwrap();
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(s.as_bytes()[i]) + u16::from(order[i]) + carry;
            past[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        cases.push((key, past));
        let mut at_order = signature;
        at_order[32..].copy_from_slice(&order);
        cases.push((key, at_order));
        let mut high_bits = signature;
        high_bits[63] |= 0xe0;
        cases.push((key, high_bits));
        // R plus each small-order point; R and A themselves of small order.
        let r = CompressedEdwardsY(signature[..32].try_into().unwrap()).decompress().unwrap();
        for (torsion, encoding) in curve25519_dalek::constants::EIGHT_TORSION.iter().zip(small_order_points()) {
            let mut moved = signature;
            moved[..32].copy_from_slice((r + torsion).compress().as_bytes());
            cases.push((key, moved));
            let mut small_r = signature;
            small_r[..32].copy_from_slice(&encoding);
            cases.push((key, small_r));
            cases.push((encoding, signature));
            let mut both = [0u8; 64];
            both[..32].copy_from_slice(&encoding);
            cases.push((encoding, both));
        }
        // y = 1 with the sign bit set, and y = p + 1: encodings that decode
        // to points but are not what compression writes.
        let mut signed_one = [0u8; 32];
        signed_one[0] = 1;
        signed_one[31] = 0x80;
        let mut non_canonical = signature;
        non_canonical[..32].copy_from_slice(&signed_one);
        cases.push((key, non_canonical));
        let mut p_plus_one = [0xffu8; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        let mut wrapped = signature;
        wrapped[..32].copy_from_slice(&p_plus_one);
        cases.push((key, wrapped));
        cases.push((p_plus_one, signature));
        // A key that is not a point at all.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        cases.push((not_a_point, signature));
        for (i, (key, signature)) in cases.iter().enumerate() {
            assert_eq!(ours(key, &message, signature), reference(key, &message, signature), "case {i}");
        }
        assert!(cases.iter().any(|(k, s)| !reference(k, &message, s)), "the cases include rejections");
        assert!(cases.iter().any(|(k, s)| reference(k, &message, s)), "and degenerate signatures that verify");
    }

    proptest! {
        /// Random keys, messages and bytes flipped anywhere: the same verdict.
        #[test]
        fn every_verdict_is_the_reference_verdict(
            seed in any::<[u8; 32]>(),
            message in proptest::collection::vec(any::<u8>(), 0..200),
            flip in proptest::option::of((0usize..96, 0u8..8)),
        ) {
            let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
            let mut key = signing.verifying_key().to_bytes();
            let mut signature = signing.sign(&message).to_bytes();
            if let Some((at, bit)) = flip {
                if at < 64 { signature[at] ^= 1 << bit } else { key[at - 64] ^= 1 << bit }
            }
            prop_assert_eq!(ours(&key, &message, &signature), reference(&key, &message, &signature));
            if flip.is_none() {
                prop_assert!(ours(&key, &message, &signature));
            }
        }
    }
}
