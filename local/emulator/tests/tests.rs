//! Integration tests of the emulator, running real `fake-runtime` processes. This file only
//! lists the themed modules.

mod util;

mod api;
mod contract;
mod lifecycle;
mod limits;
mod measure;
mod model;
