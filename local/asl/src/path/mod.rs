//! JSONPath as AWS Step Functions understands it (Jayway semantics).
//!
//! Owns the parsed form of every path that appears in a definition ([`JsonPath`]), where a
//! path starts (input `$`, context object `$$` or a workflow variable `$name`), and the
//! selection of values. It must not know about states or data flow: the evaluator decides
//! what a missing value means (an error for a definite path, `[]` for an indefinite one).
//!
//! Why our own: AWS uses Jayway JsonPath, which differs from RFC 9535 (the crates on
//! crates.io): `$.delivery-partner` is a valid dot name, an indefinite path that finds
//! nothing yields `[]`, and the filter syntax is `[?(@.x > 1)]`.

mod eval;
mod parser;

use serde_json::Value;

pub(crate) use eval::set_reference;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state's input (or the value the field is applied to).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// A parsed JSONPath expression.
#[derive(Debug, Clone)]
pub struct JsonPath {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

/// One step of a path.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `.name` or `['name']`.
    Child(String),
    /// `['a','b']`.
    Children(Vec<String>),
    /// `[0]`, `[-1]`.
    Index(i64),
    /// `[0,2]`.
    Indexes(Vec<i64>),
    /// `[start:end:step]`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `.*` or `[*]`.
    Wildcard,
    /// `..` followed by a selector: applies it at every depth.
    Descendant(Box<Segment>),
    /// `[?(...)]`.
    Filter(Box<Filter>),
}

/// A filter expression inside `[?( … )]`.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// An operand alone: true when it exists.
    Exists(Operand),
    Compare(Operand, CmpOp, Operand),
}

/// A value in a filter expression.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    /// `@…` (relative to the current item) or `$…` (relative to the document root).
    Path {
        relative: bool,
        segments: Vec<Segment>,
    },
    Literal(Value),
    Regex(regex::Regex),
}

/// A comparison operator in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    In,
    Nin,
}

/// Why a path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath `{path}`: {reason}")]
pub struct PathError {
    /// The path text as written.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl JsonPath {
    /// Parses a path: `$`, `$$`, or `$name` followed by Jayway segments.
    ///
    /// # Errors
    /// A [`PathError`] naming the path and what is wrong with it.
    pub fn parse(text: &str) -> Result<JsonPath, PathError> {
        parser::parse(text)
    }

    /// The path as written in the definition.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Where the path starts.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// True when the path selects at most one value (no wildcard, slice, filter, deep scan or
    /// list), which is what ASL calls a reference path.
    pub fn is_definite(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Child(_) | Segment::Index(_)))
    }

    /// Every value the path selects, starting at `root` (the value `$`, `$$` or the variable
    /// stands for).
    pub fn select<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        eval::select(&self.segments, root, root)
    }

    /// What the path yields as ASL sees it: for a definite path the single value, or `None`
    /// when it is missing; for an indefinite path an array of every match (possibly empty).
    pub fn query(&self, root: &Value) -> Option<Value> {
        if self.is_definite() {
            eval::select_definite(&self.segments, root).cloned()
        } else {
            Some(Value::Array(
                self.select(root).into_iter().cloned().collect(),
            ))
        }
    }

    /// Like [`JsonPath::query`] for definite paths but without cloning.
    pub fn query_ref<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        eval::select_definite(&self.segments, root)
    }

    /// The path in Jayway's normalised form (`$['a'][0]`), as AWS prints it in errors.
    pub fn normalized(&self) -> String {
        let mut out = match &self.root {
            Root::Input => "$".to_owned(),
            Root::Context => "$$".to_owned(),
            Root::Variable(v) => format!("${v}"),
        };
        for s in &self.segments {
            match s {
                Segment::Child(n) => out.push_str(&format!("['{n}']")),
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Wildcard => out.push_str("[*]"),
                _ => out.push_str("[?]"),
            }
        }
        out
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "isbn": "0-553", "price": 8.99},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "isbn": "0-395", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "delivery-partner": "UQS",
            "items": [1, 2, 3, 4, 5]
        })
    }

    macro_rules! q {
        ($name:ident, $path:expr, $want:expr) => {
            #[test]
            fn $name() {
                let p = JsonPath::parse($path).unwrap();
                assert_eq!(p.query(&doc()), $want, "{}", $path);
            }
        };
    }

    q!(root, "$", Some(doc()));
    q!(dash_name, "$.delivery-partner", Some(json!("UQS")));
    q!(bracket_name, "$['delivery-partner']", Some(json!("UQS")));
    q!(index, "$.items[1]", Some(json!(2)));
    q!(negative_index, "$.items[-1]", Some(json!(5)));
    q!(missing, "$.nope.deeper", None);
    q!(wildcard, "$.items[*]", Some(json!([1, 2, 3, 4, 5])));
    q!(wildcard_missing, "$.nothing[*]", Some(json!([])));
    q!(slice, "$.items[1:3]", Some(json!([2, 3])));
    q!(slice_open, "$.items[3:]", Some(json!([4, 5])));
    q!(slice_head, "$.items[:2]", Some(json!([1, 2])));
    q!(slice_tail, "$.items[-2:]", Some(json!([4, 5])));
    q!(slice_step, "$.items[::2]", Some(json!([1, 3, 5])));
    q!(indexes, "$.items[0,4]", Some(json!([1, 5])));
    q!(
        map_field,
        "$.store.book[*].author",
        Some(json!([
            "Nigel Rees",
            "Evelyn Waugh",
            "Herman Melville",
            "J. R. R. Tolkien"
        ]))
    );
    q!(
        filter_lt,
        "$.store.book[?(@.price < 10)].price",
        Some(json!([8.95, 8.99]))
    );
    q!(
        filter_exists,
        "$.store.book[?(@.isbn)].isbn",
        Some(json!(["0-553", "0-395"]))
    );
    q!(
        filter_eq_str,
        "$.store.book[?(@.category == 'reference')].author",
        Some(json!(["Nigel Rees"]))
    );
    q!(
        filter_and,
        "$.store.book[?(@.price > 8.96 && @.category == 'fiction')].price",
        Some(json!([12.99, 8.99, 22.99]))
    );
    q!(
        filter_or,
        "$.store.book[?(@.price < 9 || @.price > 20)].price",
        Some(json!([8.95, 8.99, 22.99]))
    );
    q!(
        filter_not,
        "$.store.book[?(!(@.price < 10))].price",
        Some(json!([12.99, 22.99]))
    );
    q!(
        filter_in,
        "$.store.book[?(@.author in ['Nigel Rees'])].price",
        Some(json!([8.95]))
    );
    q!(
        filter_regex,
        "$.store.book[?(@.author =~ /.*Tolkien/)].price",
        Some(json!([22.99]))
    );
    q!(
        filter_root,
        "$.store.book[?(@.price > $.store.bicycle.price)].price",
        Some(json!([22.99]))
    );
    // serde_json keeps object keys sorted, so `bicycle` comes before `book`.
    q!(
        deep_scan,
        "$..price",
        Some(json!([19.95, 8.95, 12.99, 8.99, 22.99]))
    );
    q!(
        deep_scan_index,
        "$..book[0].author",
        Some(json!(["Nigel Rees"]))
    );
    q!(
        star_object,
        "$.store.bicycle.*",
        Some(json!(["red", 19.95]))
    );
    q!(
        children,
        "$.store.bicycle['color','price']",
        Some(json!(["red", 19.95]))
    );

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "a.b",
            "$.",
            "$[",
            "$['a'",
            "$[?(@.a <)]",
            "$.a..",
            "$[1:2:0]",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roots() {
        assert_eq!(
            JsonPath::parse("$$.Map.Item").unwrap().root(),
            &Root::Context
        );
        assert_eq!(
            JsonPath::parse("$var.x").unwrap().root(),
            &Root::Variable("var".into())
        );
        assert!(JsonPath::parse("$.a[0]").unwrap().is_definite());
        assert!(!JsonPath::parse("$.a[*]").unwrap().is_definite());
    }

    #[test]
    fn normalized_form() {
        assert_eq!(
            JsonPath::parse("$.a.b[0]").unwrap().normalized(),
            "$['a']['b'][0]"
        );
    }
}
