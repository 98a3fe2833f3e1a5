//! Reads a date-time picture (`[Y0001]-[M01]-[D01]`) into literal text and component
//! markers with their presentation and width modifiers. Must not format or parse dates.

use crate::error::{Result, err};
use crate::functions::integer::{self, Case, IntFormat};

/// One part of a picture.
#[derive(Debug, Clone)]
pub(super) enum Part {
    Literal(String),
    Marker(Marker),
}

#[derive(Debug, Clone)]
pub(super) struct Marker {
    pub(super) component: char,
    pub(super) pres1: String,
    pub(super) pres2: Option<char>,
    pub(super) names: Option<Case>,
    pub(super) int: Option<IntFormat>,
    pub(super) width: (Option<usize>, Option<usize>),
    /// Year digits to keep (-1: all).
    pub(super) year_digits: i32,
}

fn default_presentation(c: char) -> Option<&'static str> {
    Some(match c {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

pub(super) fn analyse(picture: &str) -> Result<Vec<Part>> {
    let chars: Vec<char> = picture.chars().collect();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '[' && chars.get(i + 1) == Some(&'[') {
            lit.push('[');
            i += 2;
            continue;
        }
        if c == ']' && chars.get(i + 1) == Some(&']') {
            lit.push(']');
            i += 2;
            continue;
        }
        if c != '[' {
            lit.push(c);
            i += 1;
            continue;
        }
        if !lit.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut lit)));
        }
        let Some(end) = chars[i..].iter().position(|c| *c == ']').map(|p| p + i) else {
            return Err(err(
                "D3135",
                "No matching closing bracket ']' in date/time picture string",
                None,
            ));
        };
        let marker: String = chars[i + 1..end]
            .iter()
            .filter(|c| !c.is_whitespace())
            .collect();
        parts.push(Part::Marker(analyse_marker(&marker)?));
        i = end + 1;
    }
    if !lit.is_empty() {
        parts.push(Part::Literal(lit));
    }
    Ok(parts)
}

fn analyse_marker(marker: &str) -> Result<Marker> {
    let component = marker.chars().next().unwrap_or(' ');
    let rest: String = marker.chars().skip(1).collect();
    let (pres, width) = match rest.rfind(',') {
        Some(i) => {
            let w = &rest[i + 1..];
            let (min, max) = w.split_once('-').map_or((w, None), |(a, b)| (a, Some(b)));
            let num = |s: &str| if s == "*" { None } else { s.parse().ok() };
            (rest[..i].to_owned(), (num(min), max.and_then(num)))
        }
        None => (rest, (None, None)),
    };
    let (mut pres1, mut pres2) = (pres.clone(), None);
    if pres.chars().count() > 1 {
        if let Some(last) = pres.chars().last().filter(|c| "atco".contains(*c)) {
            pres2 = Some(last);
            pres1 = pres[..pres.len() - 1].to_owned();
        }
    } else if pres.is_empty() {
        match default_presentation(component) {
            Some(p) => pres1 = p.to_owned(),
            None => {
                return Err(err(
                    "D3132",
                    format!("Unknown component specifier {component} in date/time picture string"),
                    None,
                ));
            }
        }
    }
    if default_presentation(component).is_none() {
        return Err(err(
            "D3132",
            format!("Unknown component specifier {component} in date/time picture string"),
            None,
        ));
    }
    let names = if pres1.starts_with('n') {
        Some(Case::Lower)
    } else if pres1.starts_with('N') {
        Some(if pres1.chars().nth(1) == Some('n') {
            Case::Title
        } else {
            Case::Upper
        })
    } else {
        None
    };
    let mut m = Marker {
        component,
        pres1: pres1.clone(),
        pres2,
        names,
        int: None,
        width,
        year_digits: -1,
    };
    if "YMDdFWwXxHhmsf".contains(component) {
        let pattern = match pres2 {
            Some(p) => format!("{pres1};{p}"),
            None => pres1.clone(),
        };
        let mut f = integer::analyse(&pattern)?;
        if let Some(min) = width.0 {
            f.mandatory = f.mandatory.max(min);
        }
        if component == 'Y' {
            if let Some(max) = width.1 {
                m.year_digits = i32::try_from(max).unwrap_or(-1);
                f.mandatory = max;
            } else {
                let w = f.mandatory + f.optional;
                if w >= 2 {
                    m.year_digits = i32::try_from(w).unwrap_or(-1);
                }
            }
        }
        m.int = Some(f);
    }
    if component == 'Z' || component == 'z' {
        m.int = Some(integer::analyse(&pres1)?);
    }
    Ok(m)
}
