//! Canonical JSON and the `sha256:` digests built on it.
//!
//! Canonical here means: object keys sorted by their UTF-8 bytes, no
//! insignificant whitespace, strings escaped as JSON requires (only `"`, `\`
//! and control characters), numbers as serde_json prints them. The same value
//! always gives the same bytes, whatever order its keys were written in.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    String::from_utf8(out).expect("JSON text is UTF-8")
}

/// Writes straight into bytes, strings and numbers through serde_json's own
/// writer: the same bytes `Value`'s `Display` prints, without the clone and
/// formatting machinery per key (this runs for every record and draft a
/// listing reads).
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&str, &Value)> = map.iter().map(|(key, value)| (key.as_str(), value)).collect();
            write_object(&mut entries, out, |value, out| write_canonical(value, out));
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::String(text) => write_member(Member::Str(text), out),
        Value::Number(number) => write_scalar(number, out),
        Value::Bool(flag) => write_member(Member::Bool(*flag), out),
        Value::Null => write_member(Member::Null, out),
    }
}

/// One member's value of a flat JSON object, for [`canonical_object`].
#[derive(Debug, Clone, Copy)]
pub enum Member<'a> {
    Str(&'a str),
    U64(u64),
    Bool(bool),
    Null,
}

/// The canonical JSON of a flat object (every member a string, number,
/// boolean or null): the bytes [`canonical_json`] writes for the same
/// object, without building a [`Value`] first. Records are such objects,
/// and every record a listing or a verify reads is written again to check
/// that its line is canonical.
pub fn canonical_object(members: &mut [(&str, Member<'_>)]) -> String {
    let mut out = Vec::with_capacity(32 * members.len());
    write_object(members, &mut out, |member, out| write_member(*member, out));
    String::from_utf8(out).expect("JSON text is UTF-8")
}

/// An object's members, keys sorted by their bytes, each value written by `write`.
fn write_object<V>(members: &mut [(&str, V)], out: &mut Vec<u8>, write: impl Fn(&V, &mut Vec<u8>)) {
    members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push(b'{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_scalar(*key, out);
        out.push(b':');
        write(value, out);
    }
    out.push(b'}');
}

fn write_member(member: Member<'_>, out: &mut Vec<u8>) {
    match member {
        Member::Str(text) => write_scalar(text, out),
        Member::U64(number) => write_scalar(&number, out),
        Member::Bool(true) => out.extend_from_slice(b"true"),
        Member::Bool(false) => out.extend_from_slice(b"false"),
        Member::Null => out.extend_from_slice(b"null"),
    }
}

fn write_scalar<T: serde::Serialize + ?Sized>(scalar: &T, out: &mut Vec<u8>) {
    serde_json::to_writer(out, scalar).expect("strings and numbers always serialize");
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// The digest of a value's canonical JSON: what `proposed_spec_digest` is.
pub fn value_digest(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    sha256_digest(&out)
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level_and_whitespace_dropped() {
        let v = json!({"b": 1, "a": {"d": [true, null], "c": "x\"y"}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":"x\"y","d":[true,null]},"b":1}"#);
    }

    /// Scalars come out as `Value`'s own `Display` writes them: escapes,
    /// non-ASCII text, every number form.
    #[test]
    fn scalars_are_written_as_serde_json_prints_them() {
        let v = json!({"\u{1}\t\"\\é\u{7f}": [-1, 0.5, 1e300, u64::MAX, i64::MIN, false, "\u{2028}\n"]});
        let items = v.as_object().unwrap().values().next().unwrap().as_array().unwrap();
        let key = v.as_object().unwrap().keys().next().unwrap();
        let expected = format!(
            "{{{}:[{}]}}",
            Value::String(key.clone()),
            items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        );
        assert_eq!(canonical_json(&v), expected);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn digest_does_not_depend_on_key_order() {
        let a: Value = serde_json::from_str(r#"{"name":"x","provider":"stripe"}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"provider":"stripe","name":"x"}"#).unwrap();
        assert_eq!(value_digest(&a), value_digest(&b));
        assert_eq!(sha256_digest(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
