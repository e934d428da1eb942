//! Runs the shared scenario vectors in `core/tests/vectors/` through the
//! Rust API. Every binding runs the same files through its own API; the
//! format is described in `core/tests/vectors/README.md`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reservo::catalog::{Block, Property, Resource};
use reservo::engine::{ConfirmRequest, Engine, HoldRequest, QuoteRequest, SearchRequest};
use reservo::ids::{HoldId, ResourceId};
use reservo::pricing::{Promo, RatePlan, RatePlanSpec};
use reservo::restriction::Restrictions;
use reservo::store::MemoryStore;
use reservo::time::ManualClock;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Vector {
    name: String,
    given: Given,
    when: Vec<Step>,
}

#[derive(Deserialize)]
struct Given {
    clock: DateTime<Utc>,
    #[serde(default)]
    properties: Vec<Property>,
    #[serde(default)]
    rate_plans: Vec<RatePlanSpec>,
    #[serde(default)]
    resources: Vec<Resource>,
    #[serde(default)]
    restrictions: HashMap<ResourceId, Restrictions>,
    #[serde(default)]
    blocks: Vec<Block>,
    #[serde(default)]
    promos: Vec<Promo>,
}

#[derive(Deserialize)]
struct Step {
    op: String,
    args: Value,
    #[serde(default)]
    save: Option<String>,
    #[serde(default)]
    expect: Value,
}

#[derive(Deserialize)]
struct RangeArgs {
    resource: ResourceId,
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Deserialize)]
struct HoldArgs {
    hold: HoldId,
    #[serde(default)]
    ttl_seconds: u32,
}

/// Replaces every `"$name"` string with the id saved under `name`.
fn substitute(value: &Value, saved: &HashMap<String, String>) -> Value {
    match value {
        Value::String(s) if s.starts_with('$') => Value::String(
            saved
                .get(&s[1..])
                .unwrap_or_else(|| panic!("nothing saved as {s}"))
                .clone(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, saved)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, saved)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn args<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("vector args match the core's serde shape")
}

/// The result of a step as JSON, so expectations are checked one way.
async fn run_step(
    engine: &Engine,
    clock: &ManualClock,
    op: &str,
    args_json: Value,
) -> reservo::Result<Value> {
    Ok(match op {
        "quote" => {
            let q = engine.quote(&args::<QuoteRequest>(args_json)).await?;
            serde_json::json!({
                "total": q.quote.total().to_string(),
                "available": q.available,
                "lines": q.quote.lines().iter().map(|l| l.description.clone()).collect::<Vec<_>>(),
            })
        }
        "search" => {
            let hits = engine.search(&args::<SearchRequest>(args_json)).await?;
            serde_json::json!({
                "hits": hits.iter().map(|h| h.resource.to_string()).collect::<Vec<_>>(),
                "hit_totals": hits.iter().map(|h| h.total.to_string()).collect::<Vec<_>>(),
            })
        }
        "night_availability" => {
            let a: RangeArgs = args(args_json);
            let nights = engine.night_availability(&a.resource, a.from, a.to).await?;
            serde_json::json!({"available_by_night": nights.iter().map(|n| n.available).collect::<Vec<_>>()})
        }
        "hold" => {
            let hold = engine.hold(&args::<HoldRequest>(args_json)).await?;
            serde_json::json!({"id": hold.id, "total": hold.total.to_string()})
        }
        "confirm" => {
            let booking = engine.confirm(&args::<ConfirmRequest>(args_json)).await?;
            serde_json::json!({"id": booking.id, "total": booking.total.to_string(), "status": booking.status.as_str()})
        }
        "release" => {
            let hold = engine.release(&args::<HoldArgs>(args_json).hold).await?;
            serde_json::json!({"id": hold.id})
        }
        "extend" => {
            let a: HoldArgs = args(args_json);
            let hold = engine.extend(&a.hold, a.ttl_seconds).await?;
            serde_json::json!({"id": hold.id})
        }
        "advance_clock" => {
            clock.advance(Duration::seconds(
                args_json["seconds"].as_i64().expect("seconds"),
            ));
            Value::Null
        }
        other => panic!("unknown op {other:?}"),
    })
}

async fn run_vector(path: &Path) {
    let vector: Vector = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(vector.given.clock));
    let engine = Engine::builder(store.clone()).clock(clock.clone()).build();
    let g = vector.given;
    for p in g.properties {
        engine.put_property(p).await.unwrap();
    }
    for spec in g.rate_plans {
        engine
            .put_rate_plan(RatePlan::new(spec).unwrap())
            .await
            .unwrap();
    }
    for r in g.resources {
        engine.put_resource(r).await.unwrap();
    }
    for (resource, rules) in g.restrictions {
        engine.set_restrictions(&resource, rules).await.unwrap();
    }
    for b in g.blocks {
        engine.add_block(b).await.unwrap();
    }
    for p in g.promos {
        engine.put_promo(p).await.unwrap();
    }
    let mut saved = HashMap::new();
    for (n, step) in vector.when.into_iter().enumerate() {
        let at = format!("{} ({}), step {n} {}", vector.name, path.display(), step.op);
        let before = store.dump();
        let result = run_step(&engine, &clock, &step.op, substitute(&step.args, &saved)).await;
        let expect = step.expect.as_object().cloned().unwrap_or_default();
        match (result, expect.get("error").and_then(Value::as_str)) {
            (Err(err), Some(code)) => {
                assert_eq!(err.code(), code, "{at}: {err}");
                if expect.get("unchanged") == Some(&Value::Bool(true)) {
                    assert!(
                        store.dump() == before,
                        "{at}: the failed step changed the store"
                    );
                }
            }
            (Err(err), None) => panic!("{at}: unexpected error {err}"),
            (Ok(_), Some(code)) => panic!("{at}: expected {code}, the step succeeded"),
            (Ok(got), None) => {
                for (key, want) in &expect {
                    assert_eq!(&got[key.as_str()], want, "{at}: {key}");
                }
                if let Some(name) = step.save {
                    saved.insert(
                        name,
                        got["id"]
                            .as_str()
                            .expect("saved results have an id")
                            .to_owned(),
                    );
                }
            }
        }
    }
}

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_shared_scenario_vector_passes_through_the_rust_api() {
    let files = vector_files();
    assert!(files.len() >= 4, "the shared vectors are missing");
    for file in files {
        run_vector(&file).await;
    }
}
