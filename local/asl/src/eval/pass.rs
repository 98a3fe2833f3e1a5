//! Running a Pass state: InputPath → Parameters or Result → Assign → ResultPath → OutputPath.

use serde_json::Value;

use super::{Here, Vars};
use crate::error::Failure;
use crate::spec::Pass;

pub(super) fn eval(
    here: &Here<'_>,
    p: &Pass,
    raw: Value,
    vars: &mut Vars,
) -> Result<(Value, Option<usize>), Failure> {
    let io = &here.state.io;
    if let Some(j) = &io.jsonata {
        let states = super::jsonata::States {
            input: Some(&raw),
            ..Default::default()
        };
        return Ok((here.jsonata_finish(j, states, vars, "")?, here.state.next));
    }
    let result = match (&p.result, &io.parameters) {
        (Some(r), _) => r.clone(),
        (None, Some(t)) => {
            let eff = here.select_path(&io.input_path, raw.clone(), vars)?;
            here.env(&eff, vars).template(t).map_err(|e| here.err(e))?
        }
        (None, None) => here.select_path(&io.input_path, raw.clone(), vars)?,
    };
    let assigned = here.assign(io.assign.as_ref(), &result, vars)?;
    let out = here.place_result(&io.result_path, &raw, result)?;
    let out = here.select_path(&io.output_path, out, vars)?;
    vars.apply(assigned);
    Ok((out, here.state.next))
}
