//! A fast reader for the plain YAML that zen-draft itself writes.
//!
//! Listing 100,000 drafts in a fresh CI clone parses every draft file; a full
//! YAML parser spends most of that time on features our files never use. The
//! files we render are block mappings (and block sequences) of plain or
//! double-quoted scalars with no escapes. This module reads exactly that
//! subset, into the `serde_json::Value` the full parser would build, and
//! declines everything else: comments, flow collections, anchors, tags,
//! multi-line scalars, tabs, odd indentation, any scalar whose plain reading
//! could be anything but the string it spells (`yes`, `1e5`, `~`, `-x`), and
//! any character outside a conservative set. A declined document goes to the
//! full parser, so its answer (and its error message) is what it always was.
//!
//! Must never: accept a document the full parser would read differently.
//! The property tests in `src/yaml/tests.rs` hold it to that, by comparing
//! both readers on generated and mutated documents.

use serde_json::{Map, Number, Value};

/// The document as the full parser would read it, or `None` when it is not
/// in the subset (the caller then uses the full parser).
pub fn read(text: &str) -> Option<Value> {
    if !text.ends_with('\n') {
        return None;
    }
    let lines: Vec<&str> = text[..text.len() - 1].split('\n').collect();
    let mut at = 0;
    let value = mapping(&lines, &mut at, 0)?;
    (at == lines.len()).then_some(value)
}

/// A block mapping whose keys sit at `indent`.
fn mapping(lines: &[&str], at: &mut usize, indent: usize) -> Option<Value> {
    let mut map = Map::new();
    while let Some(line) = lines.get(*at) {
        let Some(rest) = at_indent(line, indent) else { break };
        let (key, value) = rest.split_once(':')?;
        if !is_key(key) || map.contains_key(key) {
            return None;
        }
        *at += 1;
        let value = if value.is_empty() {
            // A nested block: a mapping indented two more, or a sequence at
            // this indent (how our renderer writes lists inside mappings).
            let next = lines.get(*at)?;
            if at_indent(next, indent).is_some_and(|r| r.starts_with("- ")) {
                sequence(lines, at, indent)?
            } else if at_indent(next, indent + 2).is_some() {
                mapping(lines, at, indent + 2)?
            } else {
                return None;
            }
        } else {
            scalar(value.strip_prefix(' ')?)?
        };
        map.insert(key.to_string(), value);
    }
    (!map.is_empty()).then_some(Value::Object(map))
}

/// A block sequence of scalars whose dashes sit at `indent`.
fn sequence(lines: &[&str], at: &mut usize, indent: usize) -> Option<Value> {
    let mut items = Vec::new();
    while let Some(item) = lines.get(*at).and_then(|l| at_indent(l, indent)).and_then(|r| r.strip_prefix("- ")) {
        items.push(scalar(item)?);
        *at += 1;
    }
    Some(Value::Array(items))
}

/// The rest of `line` if it is indented by exactly `indent` spaces.
fn at_indent(line: &str, indent: usize) -> Option<&str> {
    let rest = line.get(indent..)?;
    (line.as_bytes()[..indent].iter().all(|&b| b == b' ') && !rest.starts_with(' ') && !rest.is_empty()).then_some(rest)
}

fn is_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0] == b'_')
        && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn scalar(text: &str) -> Option<Value> {
    match text {
        "null" => return Some(Value::Null),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return (inner.bytes().all(|b| is_safe_byte(b) || b == b' ' || b == b'#')).then(|| Value::from(inner));
    }
    let bytes = text.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        // A decimal integer without a leading zero (`0` itself is fine).
        if bytes.len() > 18 || (bytes.len() > 1 && bytes[0] == b'0') {
            return None;
        }
        return text.parse::<u64>().ok().map(|n| Value::Number(Number::from(n)));
    }
    plain_string(text).then(|| Value::from(text))
}

/// A plain scalar that can only be read as the string it spells: it starts
/// with a letter, holds only safe characters, has no `: ` or ` #` in it, does
/// not end in `:` or a space, and is not one of the words YAML reads as
/// something else. Or it is lowercase hex with dashes holding a letter no
/// number has (`a` to `d`, `f`): an id or an object id.
fn plain_string(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else { return false };
    if first.is_ascii_digit() {
        return bytes.iter().all(|&b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
            && bytes.iter().any(|b| b"abcdf".contains(b));
    }
    first.is_ascii_alphabetic()
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains("  ")
        && bytes.iter().all(|&b| is_safe_byte(b) || b == b' ')
        && !RESERVED.iter().any(|word| word.eq_ignore_ascii_case(text))
}

/// Characters that mean nothing special inside a plain or double-quoted scalar.
fn is_safe_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._/:@+=-".contains(&b)
}

/// Plain words some YAML schema reads as null, a boolean or a number.
const RESERVED: [&str; 14] =
    ["null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity", "nil", "none"];

#[cfg(test)]
mod tests {
    use super::read;
    use serde_json::json;

    #[test]
    fn reads_what_the_renderer_writes() {
        let text = "version: 1\nid: a-b\nspec:\n  name: x\n  events:\n  - a.b\n  - c\nbase: null\nat: \"2026-11-23T21:00:00Z\"\n";
        assert_eq!(
            read(text),
            Some(json!({"version": 1, "id": "a-b", "spec": {"name": "x", "events": ["a.b", "c"]}, "base": null,
                "at": "2026-11-23T21:00:00Z"}))
        );
    }

    #[test]
    fn declines_anything_else() {
        for text in [
            "a: 1",             // no final newline
            "a: yes\n",         // a boolean to some readers
            "a: 1e5\n",         // a float
            "a: 007\n",         // octal to some readers
            "a: x # comment\n", // a comment
            "a: [x]\n",         // flow
            "a: &x y\n",        // an anchor
            "a: x\n  y\n",      // a folded continuation
            "a: x\na: y\n",     // a duplicate key
            "a:\n    b: c\n",   // odd indentation
            "a: \"x\\ny\"\n",   // an escape
            "a: 'x'\n",         // single quotes
            "a:  x\n",          // two spaces
            "a: x \n",          // trailing space
            "a:\tx\n",          // a tab
            "---\na: x\n",      // a document marker
            "a: -x\n",          // starts with an indicator
            "a: x:\n",          // ends with a colon
            "\na: x\n",         // a blank line
            "A: x\n",           // a key outside the set
            "a: é\n",           // outside ASCII
        ] {
            assert_eq!(read(text), None, "{text:?}");
        }
    }
}
