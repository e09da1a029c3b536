//! Reading an armored SSH signature (`-----BEGIN SSH SIGNATURE-----`).
//!
//! ssh-key's PEM reader decodes base64 in constant time, which a public
//! signature does not need, and in a cold listing that was a twentieth of the
//! time. The exact shape `ssh-keygen -Y sign` and ssh-key write is decoded
//! here instead: the two boundary lines, the body in lines of 70 characters
//! (the last one shorter), canonical base64 with its `=` padding, and the
//! signature blob with nothing after it. Everything else, and anything that
//! does not decode cleanly here, goes to ssh-key's reader, so the answer is
//! always the one ssh-key gives (a test holds the two together).
//!
//! Must never: accept an armor ssh-key's reader refuses, or read one as a
//! different signature.

use ssh_encoding::Decode;
use ssh_key::SshSig;

const BEGIN: &str = "-----BEGIN SSH SIGNATURE-----\n";
const END: &str = "\n-----END SSH SIGNATURE-----";
const LINE_WIDTH: usize = 70;

/// The signature an armor holds, as `SshSig::from_pem` reads it.
pub fn parse(armored: &str) -> Result<SshSig, ssh_key::Error> {
    if let Some(blob) = plain_body(armored) {
        let mut rest: &[u8] = &blob;
        if let Ok(signature) = SshSig::decode(&mut rest)
            && rest.is_empty()
        {
            return Ok(signature);
        }
    }
    SshSig::from_pem(armored)
}

/// The decoded body of an armor in exactly the written shape.
fn plain_body(armored: &str) -> Option<Vec<u8>> {
    let body = armored.strip_prefix(BEGIN)?.strip_suffix(END)?;
    let mut text = Vec::with_capacity(body.len());
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        if line.is_empty() || line.len() > LINE_WIDTH || (!last && line.len() != LINE_WIDTH) {
            return None;
        }
        text.extend_from_slice(line.as_bytes());
    }
    base64(&text)
}

/// Canonical padded base64 (RFC 4648 §4): whole quads, `=` only at the end,
/// and no bits set past the data; `None` for anything else.
fn base64(text: &[u8]) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(4) {
        return None;
    }
    let padding = text.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let quads = text.len() / 4;
    for (i, quad) in text.chunks_exact(4).enumerate() {
        let pad = if i + 1 == quads { padding } else { 0 };
        let mut bits = 0u32;
        for &c in &quad[..4 - pad] {
            bits = bits << 6 | u32::from(sextet(c)?);
        }
        bits <<= 6 * pad as u32;
        let bytes = bits.to_be_bytes();
        match pad {
            0 => out.extend_from_slice(&bytes[1..4]),
            1 if bytes[3] == 0 => out.extend_from_slice(&bytes[1..3]),
            2 if bytes[2] == 0 && bytes[3] == 0 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ssh_key::{HashAlg, LineEnding, PrivateKey};

    fn armor(message: &[u8]) -> String {
        let key = PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519).unwrap();
        key.sign("zen-draft-evidence", HashAlg::Sha512, message).unwrap().to_pem(LineEnding::LF).unwrap()
    }

    /// What ssh-key says, compared as the verdict and the signature.
    fn agree(armored: &str) -> Result<(), TestCaseError> {
        let ours = parse(armored).ok();
        let theirs = SshSig::from_pem(armored).ok();
        prop_assert_eq!(ours, theirs, "{:?}", armored);
        Ok(())
    }

    #[test]
    fn the_written_shape_is_read_here_and_as_ssh_key_reads_it() {
        for message in [&b""[..], b"x", b"record\n", &[7u8; 500]] {
            let armored = armor(message);
            let armored = armored.trim();
            assert!(plain_body(armored).is_some(), "the fast path takes {armored:?}");
            assert_eq!(parse(armored).unwrap(), SshSig::from_pem(armored).unwrap());
        }
    }

    #[test]
    fn base64_is_canonical_or_refused() {
        assert_eq!(base64(b"TWFu").unwrap(), b"Man");
        assert_eq!(base64(b"TWE=").unwrap(), b"Ma");
        assert_eq!(base64(b"TQ==").unwrap(), b"M");
        for bad in [&b"TWF"[..], b"TWF=u", b"TR==", b"TWF=", b"T===", b"====", b"TW-u", b"TQ==TWFu", b""] {
            assert!(base64(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    proptest! {
        /// Armors rewrapped at other widths, with carriage returns, spaces,
        /// a character changed, padding added or dropped, text around them:
        /// the same answer as ssh-key's reader, whichever path read them.
        #[test]
        fn every_armor_gets_ssh_keys_answer(
            message in proptest::collection::vec(any::<u8>(), 0..64),
            width in 1usize..90,
            crlf in any::<bool>(),
            edit in 0usize..6,
            at in any::<proptest::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let armored = armor(&message);
            let body: String = armored
                .trim()
                .strip_prefix(BEGIN)
                .unwrap()
                .strip_suffix(END)
                .unwrap()
                .split('\n')
                .collect();
            let lines: Vec<String> =
                body.as_bytes().chunks(width).map(|l| String::from_utf8(l.to_vec()).unwrap()).collect();
            let newline = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("{}{newline}{}{newline}{}", BEGIN.trim_end(), lines.join(newline), END.trim_start());
            let place = at.index(text.len() + 1);
            match edit {
                0 => {}
                1 if text.is_char_boundary(place) => text.insert(place, char::from(byte % 128)),
                2 if place < text.len() && text.is_char_boundary(place) && text.is_char_boundary(place + 1) => {
                    text.remove(place);
                }
                3 => text = text.replacen('=', "", 1),
                4 => text = text.replacen(END, &format!("={END}"), 1),
                _ => text.push_str(newline),
            }
            agree(&text)?;
            agree(text.trim())?;
        }
    }
}
