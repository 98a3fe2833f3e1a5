//! Binary operators: arithmetic, comparison, equality, `in`, `&`, ranges and the
//! short-circuit `and`/`or`, with jsonata-js's undefined and type rules. Must not touch paths
//! or functions.

use std::borrow::Cow;
use std::rc::Rc;

use super::{Budget, Ev, MAX_ITEMS, Scope};
use crate::ast::{BinOp, Expr};
use crate::error::{Result, err};
use crate::value::{Val, deep_equal, stringify, truthy};

impl Ev<'_> {
    pub(super) fn binary(
        &mut self,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        // Short-circuit operators evaluate the right side only when needed.
        if let BinOp::And | BinOp::Or = op {
            let lb = truthy(&self.eval(l, input, scope)?).unwrap_or(false);
            if (op == BinOp::And) != lb {
                return Ok(Some(Val::Bool(lb)));
            }
            let rb = truthy(&self.eval(r, input, scope)?).unwrap_or(false);
            return Ok(Some(Val::Bool(rb)));
        }
        let lv = self.eval(l, input, scope)?;
        let rv = self.eval(r, input, scope)?;
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                arithmetic(op, lv, rv)
            }
            BinOp::Eq => Ok(Some(Val::Bool(
                matches!((&lv, &rv), (Some(a), Some(b)) if deep_equal(a, b)),
            ))),
            BinOp::Ne => Ok(Some(Val::Bool(
                matches!((&lv, &rv), (Some(a), Some(b)) if !deep_equal(a, b)),
            ))),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => compare(op, lv, rv),
            BinOp::Concat => {
                let budget = self.budget;
                let (a, b) = (text(&lv, budget)?, text(&rv, budget)?);
                // The joined text, then its copy into the value: doubling a string each
                // step must fail before the allocation, not after.
                let len = a.len().saturating_add(b.len());
                budget.reserve(len.saturating_mul(2))?;
                let mut joined = String::with_capacity(len);
                joined.push_str(&a);
                joined.push_str(&b);
                Ok(Some(Val::str(&joined)))
            }
            BinOp::In => {
                let (Some(needle), Some(hay)) = (lv, rv) else {
                    return Ok(Some(Val::Bool(false)));
                };
                let found = match &hay {
                    Val::Arr(a) => a.items.iter().any(|v| deep_equal(v, &needle)),
                    v => deep_equal(v, &needle),
                };
                Ok(Some(Val::Bool(found)))
            }
            BinOp::Range => range(lv, rv, self.budget),
            BinOp::And | BinOp::Or => Ok(None),
        }
    }
}

/// An operand of `&` as text (undefined is empty).
fn text(v: &Option<Val>, budget: Budget) -> Result<Cow<'_, str>> {
    Ok(match v {
        None => Cow::Borrowed(""),
        Some(Val::Str(s)) => Cow::Borrowed(&**s),
        Some(v) => Cow::Owned(stringify(v, false, budget)?),
    })
}

fn arithmetic(op: BinOp, lv: Option<Val>, rv: Option<Val>) -> Result<Option<Val>> {
    let sym = match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        _ => "%",
    };
    let a = match lv {
        None => None,
        Some(Val::Num(n)) => Some(finite(n)?),
        Some(_) => {
            return Err(err(
                "T2001",
                format!("The left side of the {sym} operator must evaluate to a number"),
                None,
            ));
        }
    };
    let b = match rv {
        None => None,
        Some(Val::Num(n)) => Some(finite(n)?),
        Some(_) => {
            return Err(err(
                "T2002",
                format!("The right side of the {sym} operator must evaluate to a number"),
                None,
            ));
        }
    };
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(None);
    };
    let r = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        _ => a % b,
    };
    // Infinity may flow on (to `$string`'s D3001, say); the final result is checked for D1001.
    Ok(Some(Val::Num(r)))
}

/// jsonata-js's `isNumeric` rejects infinities with D1001.
fn finite(n: f64) -> Result<f64> {
    if n.is_finite() {
        Ok(n)
    } else {
        Err(err("D1001", "Number out of range", None))
    }
}

fn compare(op: BinOp, lv: Option<Val>, rv: Option<Val>) -> Result<Option<Val>> {
    let comparable = |v: &Option<Val>| matches!(v, None | Some(Val::Num(_) | Val::Str(_)));
    if !comparable(&lv) || !comparable(&rv) {
        return Err(err(
            "T2010",
            "The expressions either side of operator must evaluate to numeric or string values",
            None,
        ));
    }
    let ord = match (&lv, &rv) {
        (Some(Val::Num(a)), Some(Val::Num(b))) => a.partial_cmp(b),
        (Some(Val::Str(a)), Some(Val::Str(b))) => Some(a.cmp(b)),
        (Some(_), Some(_)) => {
            return Err(err(
                "T2009",
                "The values either side of the operator must be of the same data type",
                None,
            ));
        }
        _ => return Ok(None),
    };
    let Some(o) = ord else {
        return Ok(Some(Val::Bool(false)));
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    let r = match op {
        BinOp::Lt => o == Less,
        BinOp::Le => o != Greater,
        BinOp::Gt => o == Greater,
        _ => o != Less,
    };
    let _ = Equal;
    Ok(Some(Val::Bool(r)))
}

fn range(lv: Option<Val>, rv: Option<Val>, budget: Budget) -> Result<Option<Val>> {
    let int = |v: &Option<Val>, code: &str, side: &str| match v {
        None => Ok(None),
        Some(Val::Num(n)) if n.fract() == 0.0 => Ok(Some(*n)),
        Some(_) => Err(err(
            code,
            format!("The {side} side of the range operator (..) must evaluate to an integer"),
            None,
        )),
    };
    let a = int(&lv, "T2003", "left")?;
    let b = int(&rv, "T2004", "right")?;
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(None);
    };
    if a > b {
        return Ok(None);
    }
    if b - a + 1.0 > MAX_ITEMS as f64 {
        return Err(err(
            "D2014",
            "The size of the sequence allocated by the range operator (..) must not exceed 1e7",
            None,
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    budget.reserve((b - a + 1.0) as usize * std::mem::size_of::<Val>())?;
    #[allow(clippy::cast_possible_truncation)]
    let (a, b) = (a as i64, b as i64);
    #[allow(clippy::cast_precision_loss)]
    Ok(Some(Val::seq(
        (a..=b).map(|i| Val::Num(i as f64)).collect(),
    )))
}
