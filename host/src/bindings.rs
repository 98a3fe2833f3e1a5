//! The generated bindings of the `workload` world. The WIT lives once, in `guests/wit/`;
//! nothing else in the host may restate it.

wasmtime::component::bindgen!({
    path: "../guests/wit",
    world: "workload",
});

/// The WIT package and version of the contract this host links: a component built against
/// another version of `powersweep:workload` imports interfaces the host does not have.
pub const CONTRACT_PACKAGE: &str = "powersweep:workload";
/// See [`CONTRACT_PACKAGE`]; bumped whenever an interface of the WIT changes.
pub const CONTRACT_VERSION: &str = "0.2.0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_constants_name_the_wit_package() {
        let wit = include_str!("../../guests/wit/workload.wit");
        let line = format!("package {CONTRACT_PACKAGE}@{CONTRACT_VERSION};");
        assert!(wit.lines().any(|l| l == line), "the WIT has no `{line}`");
    }
}
