//! The generated bindings of the `workload` world. The WIT lives once, in `guests/wit/`;
//! nothing else in the host may restate it.

wasmtime::component::bindgen!({
    path: "../guests/wit",
    world: "workload",
});
