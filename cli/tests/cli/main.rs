//! Tests of the `powersweep` binary, run as a user runs it (`CARGO_BIN_EXE_powersweep`), one
//! module per theme: one test binary, so the workspace builds one more executable, not many.

mod aws;
mod calibration;
mod commands;
mod inputs;
mod languages;
mod power_tuning_options;
mod report;
mod signals;
mod sweep;
