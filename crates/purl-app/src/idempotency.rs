//! Requests under an idempotency key: what is kept of the first, and which field a reuse of the
//! key for another request changed.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;

/// A request whose JSON text is longer than this is kept only as its hash: a reuse of its key is
/// still refused, without naming the field.
pub const REQUEST_KEPT_MAX: usize = 64 * 1024;

/// The request as the JSON text that is hashed, kept and compared.
pub fn describe(request: &impl Serialize) -> String {
    serde_json::to_string(request).expect("requests serialise to JSON")
}

/// What is kept of a request beside its hash.
pub(crate) fn kept(request: &str) -> Option<String> {
    (request.len() <= REQUEST_KEPT_MAX).then(|| request.to_owned())
}

/// The first field, in the order of the `first` request, whose value differs in `second`, as a
/// dotted path (`amount.minor`, `lines[2].quantity`). A request that is one externally tagged
/// variant (`{"record_payment": {...}}`) names fields inside it; another variant is named itself.
/// `None` when either is not JSON or both are the same.
pub fn first_difference(first: &str, second: &str) -> Option<String> {
    let first: Node = serde_json::from_str(first).ok()?;
    let second: Node = serde_json::from_str(second).ok()?;
    match (&first, &second) {
        (Node::Object(a), Node::Object(b)) if a.len() == 1 && b.len() == 1 && a[0].0 == b[0].0 => {
            difference(&a[0].1, &b[0].1, String::new())
        }
        _ => difference(&first, &second, String::new()),
    }
    .map(|path| match path.rsplit_once('.') {
        // A sum of money is `{"amount": …, "currency": …}`: its amount is named once.
        Some((parent, last)) if parent.rsplit('.').next() == Some(last) => parent.to_owned(),
        _ => path,
    })
}

/// A JSON value that keeps the order of object members as written.
#[derive(Debug, PartialEq)]
enum Node {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Leaf(serde_json::Value),
}

fn difference(first: &Node, second: &Node, path: String) -> Option<String> {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    match (first, second) {
        (Node::Object(a), Node::Object(b)) => {
            for (name, value) in a {
                match b.iter().find(|(other, _)| other == name) {
                    Some((_, other)) => {
                        if let Some(found) = difference(value, other, join(name)) {
                            return Some(found);
                        }
                    }
                    None => return Some(join(name)),
                }
            }
            b.iter()
                .find(|(name, _)| !a.iter().any(|(other, _)| other == name))
                .map(|(name, _)| join(name))
        }
        (Node::Array(a), Node::Array(b)) => {
            for (index, (value, other)) in a.iter().zip(b).enumerate() {
                if let Some(found) = difference(value, other, format!("{path}[{index}]")) {
                    return Some(found);
                }
            }
            (a.len() != b.len()).then(|| format!("{path}[{}]", a.len().min(b.len())))
        }
        (a, b) if a == b => None,
        _ => Some(if path.is_empty() {
            "request".to_owned()
        } else {
            path
        }),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Leaf(value.into()))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Leaf(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Leaf(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Leaf(value.into()))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Leaf(value.into()))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf(serde_json::Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Node>()? {
            members.push(member);
        }
        Ok(Node::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn names_the_first_field_that_differs_in_the_order_written() {
        let first = r#"{"record_payment":{"pledge":"P1","amount":{"minor":100,"currency":"EUR"},"note":"a"}}"#;
        let other_amount = r#"{"record_payment":{"pledge":"P1","amount":{"minor":101,"currency":"EUR"},"note":"b"}}"#;
        assert_eq!(
            first_difference(first, other_amount).as_deref(),
            Some("amount.minor")
        );
        let money = |amount: &str| {
            format!(r#"{{"p":{{"amount":{{"amount":"{amount}","currency":"EUR"}}}}}}"#)
        };
        assert_eq!(
            first_difference(&money("1.00"), &money("2.00")).as_deref(),
            Some("amount")
        );
        let other_note = r#"{"record_payment":{"pledge":"P1","amount":{"minor":100,"currency":"EUR"},"note":"b"}}"#;
        assert_eq!(first_difference(first, other_note).as_deref(), Some("note"));
        assert_eq!(first_difference(first, first), None);
    }

    #[test]
    fn names_missing_and_extra_members_array_items_and_other_variants() {
        assert_eq!(
            first_difference(r#"{"a":1,"b":2}"#, r#"{"a":1}"#).as_deref(),
            Some("b")
        );
        assert_eq!(
            first_difference(r#"{"a":1}"#, r#"{"a":1,"c":3}"#).as_deref(),
            Some("c")
        );
        assert_eq!(
            first_difference(r#"{"x":{"lines":[1,2]}}"#, r#"{"x":{"lines":[1,2,3]}}"#).as_deref(),
            Some("lines[2]")
        );
        assert_eq!(
            first_difference(
                r#"{"x":{"lines":[{"q":1}]}}"#,
                r#"{"x":{"lines":[{"q":2}]}}"#
            )
            .as_deref(),
            Some("lines[0].q")
        );
        assert_eq!(
            first_difference(r#"{"add_item":{"a":1}}"#, r#"{"record_gdp":{"a":1}}"#).as_deref(),
            Some("add_item")
        );
        assert_eq!(first_difference("1", "2").as_deref(), Some("request"));
        assert_eq!(first_difference("not json", "{}"), None);
    }
}
