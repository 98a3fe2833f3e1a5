//! Selecting values with a parsed path, and writing a result at a reference path.
//!
//! Owns Jayway's matching rules (missing keys are skipped, type mismatches in filters are
//! false). It must not decide what "no result" means for a state: callers do.

use super::{CmpOp, Filter, Operand, Segment};
use serde_json::Value;

/// Follows a definite path (only `Child` and `Index` segments) without allocating.
pub(super) fn select_definite<'a>(segments: &[Segment], mut cur: &'a Value) -> Option<&'a Value> {
    for s in segments {
        cur = match (s, cur) {
            (Segment::Child(n), Value::Object(m)) => m.get(n)?,
            (Segment::Index(i), Value::Array(a)) => a.get(norm_index(*i, a.len())?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn norm_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let j = if i < 0 { len + i } else { i };
    if (0..len).contains(&j) {
        usize::try_from(j).ok()
    } else {
        None
    }
}

pub(super) fn select<'a>(segments: &[Segment], root: &'a Value, doc: &'a Value) -> Vec<&'a Value> {
    let mut cur = vec![root];
    for s in segments {
        let mut next = Vec::new();
        for v in cur {
            apply(s, v, doc, &mut next);
        }
        cur = next;
    }
    cur
}

fn apply<'a>(seg: &Segment, v: &'a Value, doc: &'a Value, out: &mut Vec<&'a Value>) {
    match seg {
        Segment::Child(n) => {
            if let Value::Object(m) = v
                && let Some(x) = m.get(n)
            {
                out.push(x);
            }
        }
        Segment::Children(ns) => {
            if let Value::Object(m) = v {
                out.extend(ns.iter().filter_map(|n| m.get(n)));
            }
        }
        Segment::Index(i) => {
            if let Value::Array(a) = v
                && let Some(x) = norm_index(*i, a.len()).and_then(|j| a.get(j))
            {
                out.push(x);
            }
        }
        Segment::Indexes(is) => {
            if let Value::Array(a) = v {
                out.extend(
                    is.iter()
                        .filter_map(|i| norm_index(*i, a.len()).and_then(|j| a.get(j))),
                );
            }
        }
        Segment::Slice(start, end, step) => {
            if let Value::Array(a) = v {
                slice(a, *start, *end, *step, out);
            }
        }
        Segment::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(m) => out.extend(m.values()),
            _ => {}
        },
        Segment::Descendant(sel) => descend(sel, v, doc, out),
        Segment::Filter(f) => match v {
            Value::Array(a) => out.extend(a.iter().filter(|x| test(f, x, doc))),
            Value::Object(m) => out.extend(m.values().filter(|x| test(f, x, doc))),
            _ => {}
        },
    }
}

fn descend<'a>(sel: &Segment, v: &'a Value, doc: &'a Value, out: &mut Vec<&'a Value>) {
    apply(sel, v, doc, out);
    match v {
        Value::Array(a) => a.iter().for_each(|x| descend(sel, x, doc, out)),
        Value::Object(m) => m.values().for_each(|x| descend(sel, x, doc, out)),
        _ => {}
    }
}

fn slice<'a>(
    a: &'a [Value],
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
    out: &mut Vec<&'a Value>,
) {
    let len = i64::try_from(a.len()).unwrap_or(i64::MAX);
    let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    let step = step.unwrap_or(1);
    if step > 0 {
        let (mut i, e) = (clamp(start.unwrap_or(0)), clamp(end.unwrap_or(len)));
        while i < e {
            if let Some(x) = usize::try_from(i).ok().and_then(|j| a.get(j)) {
                out.push(x);
            }
            i += step;
        }
    } else {
        let mut i = start.map_or(len - 1, |s| if s < 0 { len + s } else { s.min(len - 1) });
        let e = end.map_or(-1, |e| if e < 0 { (len + e).max(-1) } else { e });
        while i > e {
            if let Some(x) = usize::try_from(i).ok().and_then(|j| a.get(j)) {
                out.push(x);
            }
            i += step;
        }
    }
}

fn resolve<'a>(op: &'a Operand, item: &'a Value, doc: &'a Value) -> Option<&'a Value> {
    match op {
        Operand::Literal(v) => Some(v),
        Operand::Regex(_) => None,
        Operand::Path { relative, segments } => {
            let base = if *relative { item } else { doc };
            select_definite(segments, base).or_else(|| {
                // An indefinite sub-path in a filter is rare; take its first match.
                select(segments, base, doc).into_iter().next()
            })
        }
    }
}

fn test(f: &Filter, item: &Value, doc: &Value) -> bool {
    match f {
        Filter::Or(a, b) => test(a, item, doc) || test(b, item, doc),
        Filter::And(a, b) => test(a, item, doc) && test(b, item, doc),
        Filter::Not(a) => !test(a, item, doc),
        Filter::Exists(op) => resolve(op, item, doc).is_some(),
        Filter::Compare(l, op, r) => {
            let Some(lv) = resolve(l, item, doc) else {
                return false;
            };
            if let (CmpOp::Matches, Operand::Regex(re)) = (op, r) {
                return lv.as_str().is_some_and(|s| re.is_match(s));
            }
            let Some(rv) = resolve(r, item, doc) else {
                return false;
            };
            compare(lv, *op, rv)
        }
    }
}

fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (a, b) if a == b => Some(Ordering::Equal),
        _ => None,
    };
    match op {
        CmpOp::Eq => ord == Some(Ordering::Equal),
        CmpOp::Ne => ord != Some(Ordering::Equal),
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::In => r
            .as_array()
            .is_some_and(|a| a.iter().any(|x| compare(l, CmpOp::Eq, x))),
        CmpOp::Nin => r
            .as_array()
            .is_some_and(|a| !a.iter().any(|x| compare(l, CmpOp::Eq, x))),
        CmpOp::Matches => false,
    }
}

/// Why a value could not be written at a reference path.
#[derive(Debug)]
pub(crate) struct SetError;

/// Writes `value` into `target` at a definite path, creating missing objects on the way, as
/// `ResultPath` does. Fails when an intermediate value is not an object (or the index is out of
/// range for an array).
pub(crate) fn set_reference(
    target: &mut Value,
    segments: &[Segment],
    value: Value,
) -> Result<(), SetError> {
    let Some((last, init)) = segments.split_last() else {
        *target = value;
        return Ok(());
    };
    let mut cur = target;
    for s in init {
        cur = match (s, cur) {
            (Segment::Child(n), Value::Object(m)) => m
                .entry(n.clone())
                .or_insert_with(|| Value::Object(Default::default())),
            (Segment::Index(i), Value::Array(a)) => {
                let j = norm_index(*i, a.len()).ok_or(SetError)?;
                a.get_mut(j).ok_or(SetError)?
            }
            _ => return Err(SetError),
        };
    }
    match (last, cur) {
        (Segment::Child(n), Value::Object(m)) => {
            m.insert(n.clone(), value);
            Ok(())
        }
        (Segment::Index(i), Value::Array(a)) => {
            let j = norm_index(*i, a.len()).ok_or(SetError)?;
            *a.get_mut(j).ok_or(SetError)? = value;
            Ok(())
        }
        _ => Err(SetError),
    }
}
