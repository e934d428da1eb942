//! Runs the shared scenario vectors in `core/tests/vectors/` through the
//! Rust API. Every binding runs the same files through its own API; the
//! format is described in `core/tests/vectors/README.md`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reservo::booking::Customer;
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::engine::{
    ConfirmRequest, Engine, Hold, HoldRequest, Item, QuoteRequest, ReleaseRequest, SearchFor,
    SearchRequest,
};
use reservo::ids::{PropertyId, RatePlanId, ResourceId};
use reservo::money::Money;
use reservo::party::Party;
use reservo::pricing::{Promo, RatePlan};
use reservo::restriction::Restrictions;
use reservo::schedule::Schedule;
use reservo::store::MemoryStore;
use reservo::time::{ManualClock, Stay};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Scenario {
    name: String,
    given: Given,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Given {
    now: DateTime<Utc>,
    #[serde(default)]
    properties: Vec<PropertyData>,
    #[serde(default)]
    rate_plans: Vec<Value>,
    #[serde(default)]
    resources: Vec<ResourceData>,
    #[serde(default)]
    restrictions: HashMap<ResourceId, Restrictions>,
    #[serde(default)]
    promos: Vec<Promo>,
}

#[derive(Deserialize)]
struct PropertyData {
    id: String,
    name: String,
    owner: String,
    time_zone: String,
    currency: String,
}

#[derive(Deserialize)]
struct ResourceData {
    id: ResourceId,
    property: PropertyId,
    name: String,
    rate_plan: RatePlanId,
    #[serde(default)]
    nightly: Option<NightlyData>,
    #[serde(default)]
    timed: Option<TimedData>,
}

#[derive(Deserialize)]
struct NightlyData {
    units: u32,
    max_occupancy: u32,
}

#[derive(Deserialize)]
struct TimedData {
    seats: u32,
    schedule: Schedule,
}

#[derive(Deserialize)]
struct Step {
    when: Value,
    then: Value,
}

fn field<T: serde::de::DeserializeOwned>(when: &Value, name: &str) -> T {
    serde_json::from_value(when[name].clone()).unwrap_or_else(|e| panic!("field {name}: {e}"))
}

/// A party, built the way a host would: bad counts are typed errors.
fn party(value: &Value) -> reservo::Result<Party> {
    let ages: Vec<u8> = if value.get("children_ages").is_some() {
        field(value, "children_ages")
    } else {
        Vec::new()
    };
    Party::new(field(value, "adults"), ages)
}

/// An item in the vectors' shape: a stay or a session.
fn item(value: &Value) -> reservo::Result<Item> {
    let resource = ResourceId::new(field::<String>(value, "resource"))?;
    if value.get("start").is_some() {
        return Ok(Item::session(
            resource,
            field(value, "start"),
            party(&value["party"])?,
        ));
    }
    let stay = Stay::new(field(value, "check_in"), field(value, "check_out"))?;
    Ok(Item::stay(resource, stay, party(&value["party"])?))
}

fn money(value: &Value) -> Money {
    Money::parse(
        value["amount"].as_str().expect("amount"),
        value["currency"].as_str().expect("currency"),
    )
    .expect("an amount")
}

struct Run {
    engine: Engine,
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    holds: HashMap<String, Hold>,
}

impl Run {
    async fn set_up(given: Given) -> Run {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(given.now));
        let engine = Engine::builder(store.clone()).clock(clock.clone()).build();
        for p in given.properties {
            let property =
                Property::new(&p.id, &p.name, &p.owner, &p.time_zone, &p.currency).unwrap();
            engine.put_property(property).await.unwrap();
        }
        for plan in given.rate_plans {
            engine
                .put_rate_plan(RatePlan::from_json(&plan.to_string()).unwrap())
                .await
                .unwrap();
        }
        for r in given.resources {
            let kind = match (r.nightly, r.timed) {
                (Some(n), None) => ResourceKind::Nightly {
                    units: n.units,
                    max_occupancy: n.max_occupancy,
                },
                (None, Some(t)) => ResourceKind::Timed {
                    seats: t.seats,
                    schedule: t.schedule,
                },
                _ => panic!("resource {} needs exactly one of nightly and timed", r.id),
            };
            let resource = Resource {
                id: r.id,
                property: r.property,
                name: r.name,
                rate_plan: r.rate_plan,
                kind,
            };
            engine.put_resource(resource).await.unwrap();
        }
        for (resource, rules) in given.restrictions {
            engine.set_restrictions(&resource, rules).await.unwrap();
        }
        for promo in given.promos {
            engine.put_promo(promo).await.unwrap();
        }
        Run {
            engine,
            clock,
            store,
            holds: HashMap::new(),
        }
    }

    /// Runs one step; returns what `then` may check.
    async fn run(&mut self, when: &Value) -> reservo::Result<Value> {
        let op = when["op"].as_str().expect("op");
        Ok(match op {
            "quote" => {
                let mut request = QuoteRequest::new(item(&when["item"])?);
                request.promo_code = when
                    .get("promo_code")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let quoted = self.engine.quote(&request).await?;
                json!({"total": quoted.quote.total(), "available": quoted.available})
            }
            "hold" => {
                let items = when["items"].as_array().expect("items");
                let hold = self
                    .engine
                    .hold(&HoldRequest {
                        idempotency_key: field(when, "idempotency_key"),
                        items: items
                            .iter()
                            .map(|i| item(i).map(QuoteRequest::new))
                            .collect::<reservo::Result<_>>()?,
                        ttl_seconds: field(when, "ttl_seconds"),
                    })
                    .await?;
                let result = json!({"total": hold.total, "id": hold.id});
                if let Some(name) = when.get("as").and_then(Value::as_str) {
                    self.holds.insert(name.to_owned(), hold);
                }
                result
            }
            "confirm" => {
                let hold = self.holds[when["hold"].as_str().expect("hold name")]
                    .id
                    .clone();
                let c = &when["customer"];
                let customer = Customer::new(
                    c["name"].as_str().unwrap(),
                    c["phone"].as_str().unwrap(),
                    c["email"].as_str(),
                )?;
                let request =
                    ConfirmRequest::new(field::<String>(when, "idempotency_key"), hold, customer);
                let booking = self.engine.confirm(&request).await?;
                json!({"status": booking.status.as_str()})
            }
            "release" => {
                let hold = self.holds[when["hold"].as_str().expect("hold name")]
                    .id
                    .clone();
                let request = ReleaseRequest::new(field::<String>(when, "idempotency_key"), hold);
                let released = self.engine.release(&request).await?;
                json!({"state": released.state_at(self.clock_now())})
            }
            "advance" => {
                self.clock
                    .advance(Duration::seconds(field(when, "seconds")));
                json!({})
            }
            "night_availability" => {
                let (start, end): (NaiveDate, NaiveDate) =
                    (field(when, "start"), field(when, "end"));
                let nights = self
                    .engine
                    .night_availability(&field(when, "resource"), start, end)
                    .await?;
                json!({"available": nights.iter().map(|n| n.available).collect::<Vec<_>>()})
            }
            "search" => {
                let stay = Stay::new(field(when, "check_in"), field(when, "check_out"))?;
                let hits = self
                    .engine
                    .search(&SearchRequest {
                        what: SearchFor::Stay(stay),
                        party: party(&when["party"])?,
                        property: when.get("property").map(|_| field(when, "property")),
                    })
                    .await?;
                json!({
                    "hits": hits.iter().map(|h| h.resource.as_str()).collect::<Vec<_>>(),
                    "hit_totals": hits.iter().map(|h| h.total).collect::<Vec<_>>(),
                })
            }
            other => panic!("unknown op {other:?}"),
        })
    }

    fn clock_now(&self) -> DateTime<Utc> {
        reservo::ports::Clock::now(self.clock.as_ref())
    }

    fn check(&self, context: &str, then: &Value, got: &Value) {
        for (key, expected) in then.as_object().expect("then is an object") {
            match key.as_str() {
                "total" => assert_eq!(money(&got["total"]), money(expected), "{context}: total"),
                "hit_totals" => {
                    let got: Vec<Money> = got[key].as_array().unwrap().iter().map(money).collect();
                    let want: Vec<Money> = expected.as_array().unwrap().iter().map(money).collect();
                    assert_eq!(got, want, "{context}: hit_totals");
                }
                "same_as" => {
                    let named = &self.holds[expected.as_str().expect("a hold name")];
                    assert_eq!(got["id"], json!(named.id), "{context}: same_as");
                }
                "state" => assert_eq!(got["state"]["state"], *expected, "{context}: state"),
                _ => assert_eq!(&got[key.as_str()], expected, "{context}: {key}"),
            }
        }
    }
}

async fn run_scenario(path: &Path) {
    let scenario: Scenario = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut run = Run::set_up(scenario.given).await;
    for (number, step) in scenario.steps.iter().enumerate() {
        let context = format!("{} step {number}: {}", scenario.name, step.when["op"]);
        let before = run.store.dump();
        let result = run.run(&step.when).await;
        match (result, step.then.get("error").and_then(Value::as_str)) {
            (Err(err), Some(code)) => {
                assert_eq!(err.code(), code, "{context}: {err}");
                if step.then.get("unchanged") == Some(&Value::Bool(true)) {
                    assert!(
                        run.store.dump() == before,
                        "{context}: the failed step changed the store"
                    );
                }
            }
            (Err(err), None) => panic!("{context}: unexpected error {err}"),
            (Ok(_), Some(code)) => panic!("{context}: expected {code}, the step succeeded"),
            (Ok(got), None) => run.check(&context, &step.then, &got),
        }
    }
}

fn scenario_files() -> Vec<PathBuf> {
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
    let files = scenario_files();
    assert!(files.len() >= 5, "the shared vectors are missing");
    for file in files {
        run_scenario(&file).await;
    }
}
