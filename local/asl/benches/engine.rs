//! Throughput of the engine: a chain of Pass states (transitions per second, on a
//! current-thread runtime, i.e. one core) and a 10,000-item Map.
//!
//! Run with `cargo bench -p powersweep-asl --bench engine`. Besides criterion's report it
//! prints Pass transitions per second, with and without history recording.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use powersweep_asl::{Engine, EngineConfig, StateMachine, TaskRegistry, VirtualClock};
use serde_json::{Value, json};

const CHAIN: usize = 1_000;

/// The language of a Pass chain: each state puts its step number under `last`.
#[derive(Clone, Copy)]
enum Lang {
    JsonPath,
    Jsonata,
}

fn pass_chain(lang: Lang) -> StateMachine {
    let mut states = serde_json::Map::new();
    for i in 0..CHAIN {
        let next = if i + 1 == CHAIN {
            json!({"End": true})
        } else {
            json!({"Next": format!("P{}", i + 1)})
        };
        let mut s = match lang {
            Lang::JsonPath => {
                json!({"Type": "Pass", "Result": {"step": i}, "ResultPath": "$.last"})
            }
            Lang::Jsonata => json!({"Type": "Pass", "QueryLanguage": "JSONata",
                "Output": format!("{{% $merge([$states.input, {{'last': {{'step': {i}}}}}]) %}}")}),
        };
        if let (Some(o), Some(n)) = (s.as_object_mut(), next.as_object()) {
            o.extend(n.clone());
        }
        states.insert(format!("P{i}"), s);
    }
    StateMachine::from_value(&json!({"StartAt": "P0", "States": states})).expect("valid chain")
}

fn big_map() -> StateMachine {
    StateMachine::parse(
        r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"i.$":"$$.Map.Item.Index"},
        "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#,
    )
    .expect("valid map")
}

fn engine(history: bool) -> Engine {
    let config = EngineConfig {
        record_history: history,
        // Throughput, not quotas: the 10,000-item Map makes 40,000 events.
        max_history_events: None,
        ..EngineConfig::default()
    };
    Engine::new(TaskRegistry::new())
        .with_clock(Arc::new(VirtualClock::new()))
        .with_config(config)
}

fn transitions_per_second(rt: &tokio::runtime::Runtime, history: bool, lang: Lang) -> f64 {
    let m = pass_chain(lang);
    let e = engine(history);
    let runs = 50;
    let t = Instant::now();
    for _ in 0..runs {
        let out = rt.block_on(e.run(&m, json!({"payload": {"a": 1, "b": [1, 2, 3]}})));
        assert!(out.output().is_some(), "the chain must succeed: {out:?}");
    }
    (runs * CHAIN) as f64 / t.elapsed().as_secs_f64()
}

fn benches(c: &mut Criterion) {
    let one_core = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    for history in [true, false] {
        println!(
            "Pass chain, one core, history {}: {:.0} transitions/s",
            if history { "on" } else { "off" },
            transitions_per_second(&one_core, history, Lang::JsonPath)
        );
    }
    // The same chain in both languages, interleaved, so that the machine's drift falls on both.
    let (mut path, mut ata) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        path.push(transitions_per_second(&one_core, false, Lang::JsonPath));
        ata.push(transitions_per_second(&one_core, false, Lang::Jsonata));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (path, ata) = (median(&mut path), median(&mut ata));
    println!(
        "Pass chain, one core, history off, median of 5 interleaved: JSONPath {path:.0}, JSONata {ata:.0} transitions/s (JSONata / JSONPath = {:.2})",
        ata / path
    );
    let chain = pass_chain(Lang::JsonPath);
    let e = engine(true);
    c.bench_function("pass_chain_1000_states", |b| {
        b.iter(|| one_core.block_on(e.run(&chain, json!({"x": 1}))))
    });
    let out = one_core.block_on(e.run(&big_map(), Value::Array(vec![json!(0); 10_000])));
    assert!(out.output().is_some(), "the map must succeed");

    let multi = tokio::runtime::Runtime::new().expect("runtime");
    let map = big_map();
    let items = Value::Array(vec![json!(0); 10_000]);
    let mut group = c.benchmark_group("map");
    group.sample_size(10);
    group.bench_function("map_10000_items", |b| {
        b.iter(|| multi.block_on(e.run(&map, items.clone())))
    });
    group.finish();
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
