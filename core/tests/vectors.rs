//! Runs the shared scenario vectors in `core/tests/vectors/` through the
//! Rust API. Every binding runs the same files through its own API; the
//! format is described in `core/tests/vectors/README.md`. The operations
//! after confirmation (payments, cancellation, modification, extending
//! and sweeping holds) live in `vectors/lifecycle.rs`.

#[path = "support/gateway.rs"]
mod gateway;
#[path = "vectors/lifecycle.rs"]
mod lifecycle;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reservo::booking::{Customer, Metadata};
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::commission::FeeRate;
use reservo::engine::{
    ConfirmRequest, Engine, Hold, HoldRequest, Item, QuoteRequest, ReleaseRequest, SearchFor,
    SearchRequest,
};
use reservo::ids::{BookingId, HoldId, PropertyId, RatePlanId, ResourceId};
use reservo::money::{Money, Percentage};
use reservo::party::Party;
use reservo::policy::{CancellationPolicy, presets};
use reservo::pricing::{Promo, RatePlan};
use reservo::restriction::Restrictions;
use reservo::schedule::Schedule;
use reservo::store::MemoryStore;
use reservo::time::{ManualClock, Stay};
use serde::Deserialize;
use serde_json::{Value, json};

use lifecycle::metadata;

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
    #[serde(default)]
    cancellation_policies: HashMap<RatePlanId, Value>,
    #[serde(default)]
    change_fee: Option<ChangeFeeData>,
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
struct ChangeFeeData {
    #[serde(default)]
    percent: Option<Percentage>,
    #[serde(default)]
    flat: Option<Value>,
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

/// The step's `items`, each priced as a quote would be.
fn items(when: &Value) -> reservo::Result<Vec<QuoteRequest>> {
    let items = when["items"].as_array().expect("items");
    items
        .iter()
        .map(|i| item(i).map(QuoteRequest::new))
        .collect()
}

fn money(value: &Value) -> Money {
    Money::parse(
        value["amount"].as_str().expect("amount"),
        value["currency"].as_str().expect("currency"),
    )
    .expect("an amount")
}

/// A customer in the vectors' shape: `{name, phone, email?}`.
fn customer(value: &Value) -> reservo::Result<Customer> {
    Customer::new(
        value["name"].as_str().expect("customer name"),
        value["phone"].as_str().expect("customer phone"),
        value["email"].as_str(),
    )
}

/// The step's `customer`, if it has one.
fn optional_customer(when: &Value) -> reservo::Result<Option<Customer>> {
    when.get("customer").map(customer).transpose()
}

/// A booking's customer as a step's `then.customer`: name and phone.
fn person(customer: &Customer) -> Value {
    json!({"name": customer.name, "phone": customer.phone})
}

/// A policy as `given.cancellation_policies` names it: the core's policy
/// JSON, or a preset by the name the bindings' `CancellationPolicy.preset`
/// takes.
fn policy(value: &Value) -> CancellationPolicy {
    let Some(name) = value.as_str() else {
        return serde_json::from_value(value.clone()).expect("a cancellation policy");
    };
    presets::by_name(name).unwrap_or_else(|| panic!("unknown policy preset {name:?}"))
}

struct Run {
    engine: Engine,
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    holds: HashMap<String, Hold>,
    bookings: HashMap<String, BookingId>,
}

impl Run {
    async fn set_up(given: Given) -> Run {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(given.now));
        let mut builder = Engine::builder(store.clone())
            .clock(clock.clone())
            .payment_gateway(gateway::TestGateway::new());
        if let Some(fee) = given.change_fee {
            let percent = fee.percent.unwrap_or(Percentage::ZERO);
            builder =
                builder.change_fee(FeeRate::new(percent, fee.flat.as_ref().map(money)).unwrap());
        }
        let engine = builder.build();
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
        for (plan, value) in given.cancellation_policies {
            engine
                .set_cancellation_policy(&plan, policy(&value))
                .await
                .unwrap();
        }
        Run {
            engine,
            clock,
            store,
            holds: HashMap::new(),
            bookings: HashMap::new(),
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
                let mut request = HoldRequest::new(
                    field::<String>(when, "idempotency_key"),
                    items(when)?,
                    field(when, "ttl_seconds"),
                )
                .with_metadata(metadata(when));
                if when.get("customer").is_some() {
                    request = request.with_customer(customer(&when["customer"])?);
                }
                let hold = self.engine.hold(&request).await?;
                let result = json!({"total": hold.total, "id": hold.id, "metadata": hold.metadata});
                if let Some(name) = when.get("as").and_then(Value::as_str) {
                    self.holds.insert(name.to_owned(), hold);
                }
                result
            }
            "confirm" => {
                let mut request = ConfirmRequest::for_hold_customer(
                    field::<String>(when, "idempotency_key"),
                    self.hold_named(when),
                )
                .with_metadata(metadata(when));
                request.customer = optional_customer(when)?;
                let booking = self.engine.confirm(&request).await?;
                self.name_booking(when, &booking.id);
                json!({
                    "status": booking.status.as_str(),
                    "metadata": booking.metadata,
                    "customer": person(&booking.customer),
                })
            }
            "release" => {
                let request = ReleaseRequest::new(
                    field::<String>(when, "idempotency_key"),
                    self.hold_named(when),
                );
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
            "extend" => self.extend(when).await?,
            "update_hold" => self.update_hold(when).await?,
            "expire_due" => self.expire_due(when).await?,
            "pay" => self.pay(when).await?,
            "cancel" => self.cancel(when).await?,
            "refund_quote" => self.refund_quote(when).await?,
            "quote_modification" => self.quote_modification(when).await?,
            "modify" => self.modify(when).await?,
            "set_metadata" => self.set_metadata(when).await?,
            other => panic!("unknown op {other:?}"),
        })
    }

    /// The id of the hold the step names in `hold`.
    fn hold_named(&self, when: &Value) -> HoldId {
        let name = when["hold"].as_str().expect("a hold name");
        self.holds
            .get(name)
            .unwrap_or_else(|| panic!("no hold named {name:?}"))
            .id
            .clone()
    }

    /// The id of the booking the step names in `booking`.
    fn booking_named(&self, when: &Value) -> BookingId {
        let name = when["booking"].as_str().expect("a booking name");
        self.bookings
            .get(name)
            .unwrap_or_else(|| panic!("no booking named {name:?}"))
            .clone()
    }

    /// Names `booking` as the step's `as` says, if it does.
    fn name_booking(&mut self, when: &Value, booking: &BookingId) {
        if let Some(name) = when.get("as").and_then(Value::as_str) {
            self.bookings.insert(name.to_owned(), booking.clone());
        }
    }

    fn clock_now(&self) -> DateTime<Utc> {
        reservo::ports::Clock::now(self.clock.as_ref())
    }

    fn check(&self, context: &str, then: &Value, got: &Value) {
        for (key, expected) in then.as_object().expect("then is an object") {
            match key.as_str() {
                _ if expected.get("amount").is_some() => {
                    assert!(got[key].is_object(), "{context}: {key} missing");
                    assert_eq!(money(&got[key]), money(expected), "{context}: {key}");
                }
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
                "expires_at" => {
                    let got: DateTime<Utc> = field(got, key);
                    let want: DateTime<Utc> = field(then, key);
                    assert_eq!(got, want, "{context}: expires_at");
                }
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
    assert!(files.len() >= 10, "the shared vectors are missing");
    for file in files {
        run_scenario(&file).await;
    }
}
