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

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A document of the subset, borrowing its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Int(u64),
    Str(&'a str),
    Seq(Vec<Node<'a>>),
    Map(Vec<(&'a str, Node<'a>)>),
}

/// The document, or `None` when it is not in the subset (the caller then
/// uses the full parser).
pub fn parse(text: &str) -> Option<Node<'_>> {
    let body = text.strip_suffix('\n')?;
    let lines: Vec<&str> = body.split('\n').collect();
    let mut at = 0;
    let node = mapping(&lines, &mut at, 0)?;
    (at == lines.len()).then_some(node)
}

/// The document as the full parser would read it into a JSON value (what
/// the tests compare).
#[cfg(test)]
pub fn read(text: &str) -> Option<Value> {
    parse(text).map(|node| node.to_value())
}

impl Node<'_> {
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(n) => Value::Number(Number::from(*n)),
            Node::Str(s) => Value::from(*s),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Map(entries) => {
                Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.to_value())).collect::<Map<_, _>>())
            }
        }
    }
}

/// A block mapping whose keys sit at `indent`.
fn mapping<'a>(lines: &[&'a str], at: &mut usize, indent: usize) -> Option<Node<'a>> {
    let mut entries: Vec<(&'a str, Node<'a>)> = Vec::new();
    while let Some(line) = lines.get(*at) {
        let Some(rest) = at_indent(line, indent) else { break };
        let (key, value) = rest.split_once(':')?;
        if !is_key(key) || entries.iter().any(|(k, _)| *k == key) {
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
        entries.push((key, value));
    }
    (!entries.is_empty()).then_some(Node::Map(entries))
}

/// A block sequence of scalars whose dashes sit at `indent`.
fn sequence<'a>(lines: &[&'a str], at: &mut usize, indent: usize) -> Option<Node<'a>> {
    let mut items = Vec::new();
    while let Some(item) = lines.get(*at).and_then(|l| at_indent(l, indent)).and_then(|r| r.strip_prefix("- ")) {
        items.push(scalar(item)?);
        *at += 1;
    }
    Some(Node::Seq(items))
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

fn scalar(text: &str) -> Option<Node<'_>> {
    match text {
        "null" => return Some(Node::Null),
        "true" => return Some(Node::Bool(true)),
        "false" => return Some(Node::Bool(false)),
        _ => {}
    }
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return (inner.bytes().all(|b| is_safe_byte(b) || b == b' ' || b == b'#')).then_some(Node::Str(inner));
    }
    let bytes = text.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        // A decimal integer without a leading zero (`0` itself is fine).
        if bytes.len() > 18 || (bytes.len() > 1 && bytes[0] == b'0') {
            return None;
        }
        return text.parse::<u64>().ok().map(Node::Int);
    }
    plain_string(text).then_some(Node::Str(text))
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
        // `0b101`, `0x1f`, `0o17` are numbers to some readers: a letter
        // right after the first digit is never taken as a string here.
        return bytes.get(1).is_none_or(|b| b.is_ascii_digit() || *b == b'-')
            && bytes.iter().all(|&b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
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

// ---- reading a document straight into a type ----

/// Why a document of the subset does not fit the type asked for; the caller
/// then asks the full parser, whose error is the one reported.
#[derive(Debug)]
pub struct Mismatch;

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the document does not fit the type")
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Mismatch
    }
}

/// Reads `T` from a node the way serde reads it from the equivalent JSON
/// value: the same visits, without building the value first.
impl<'de> de::Deserializer<'de> for &Node<'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match self {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Int(n) => visitor.visit_u64(*n),
            Node::Str(s) => visitor.visit_borrowed_str(s),
            Node::Seq(items) => visitor.visit_seq(Items(items.iter())),
            Node::Map(entries) => visitor.visit_map(Entries { entries: entries.iter(), value: None }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match self {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        match self {
            Node::Str(s) => visitor.visit_enum(IntoDeserializer::<Mismatch>::into_deserializer(*s)),
            _ => Err(Mismatch),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Items<'a, 'de>(std::slice::Iter<'a, Node<'de>>);

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Mismatch;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Mismatch> {
        self.0.next().map(|node| seed.deserialize(node)).transpose()
    }
}

struct Entries<'a, 'de> {
    entries: std::slice::Iter<'a, (&'de str, Node<'de>)>,
    value: Option<&'a Node<'de>>,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Mismatch;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Mismatch> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(IntoDeserializer::<Mismatch>::into_deserializer(*key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Mismatch> {
        seed.deserialize(self.value.take().ok_or(Mismatch)?)
    }
}

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
            "a: 0b1\n",         // binary to some readers
            "a: 0b101\n",       // likewise
            "a: 0d1f\n",        // a letter after the first digit
        ] {
            assert_eq!(read(text), None, "{text:?}");
        }
    }
}
