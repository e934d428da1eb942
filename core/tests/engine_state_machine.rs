//! Random command sequences against the engine and a small model of it:
//! holds of random items and time to live, confirmation of all or some
//! items, release, extension, the clock moving, the expiry sweep, blocks
//! added and removed. After every step, every unit-night and session has
//! capacity for its blocks, live holds and bookings; the engine's counts
//! are the model's; every command succeeded or failed as the model says;
//! and a hold that left the active state never changes again.
//!
//! Money invariants (refunds never above payments, commission sums) are
//! the payments tests' business.

#[path = "support/catalog.rs"]
mod catalog;

use std::collections::BTreeMap;

use catalog::{World, d, rid, start_of_tests, world};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use reservo::booking::Customer;
use reservo::catalog::{Block, BlockReason, BlockSpan};
use reservo::engine::{
    ConfirmRequest, ExtendRequest, HoldRequest, HoldState, Item, QuoteRequest, ReleaseRequest,
};
use reservo::ids::{BlockId, HoldId};
use reservo::party::Party;
use reservo::ports::Clock;
use reservo::time::Stay;

/// Nights 1 to 5 July are played with.
const NIGHTS: u32 = 5;
/// Lessons on 1 to 3 July, at 09:00 and 14:00 Lisbon (08:00, 13:00 UTC).
const LESSON_DAYS: u32 = 3;
const LESSON_HOURS_UTC: [u32; 2] = [8, 13];
const LESSON_SEATS: u32 = 8;

fn capacity(resource: &str) -> u32 {
    match resource {
        "villa" => 1,
        "double" => 5,
        _ => LESSON_SEATS,
    }
}

/// One item of a hold, as generated.
#[derive(Debug, Clone)]
enum Want {
    Stay {
        resource: &'static str,
        first: u32,
        nights: u32,
    },
    Lesson {
        day: u32,
        slot: usize,
        seats: u32,
    },
}

#[derive(Debug, Clone)]
enum Command {
    Hold {
        items: Vec<Want>,
        ttl: u32,
    },
    Confirm {
        hold: usize,
        mask: u8,
    },
    Release {
        hold: usize,
    },
    Extend {
        hold: usize,
        ttl: u32,
    },
    Advance {
        seconds: i64,
    },
    ExpireDue,
    AddBlock {
        resource: &'static str,
        first: u32,
        nights: u32,
        units: Option<u32>,
    },
    RemoveBlock {
        block: usize,
    },
}

fn stay() -> impl Strategy<Value = Want> {
    (
        prop::sample::select(vec!["villa", "double"]),
        0..NIGHTS,
        1..=3u32,
    )
        .prop_map(|(resource, first, nights)| Want::Stay {
            resource,
            first,
            nights: nights.min(NIGHTS - first),
        })
}

fn lesson() -> impl Strategy<Value = Want> {
    (0..LESSON_DAYS, 0..2usize, 1..=4u32).prop_map(|(day, slot, seats)| Want::Lesson {
        day,
        slot,
        seats,
    })
}

/// A hold's items: mostly at one property (the rentals' or the surf
/// school's); sometimes at both, which the engine refuses.
fn hold_items() -> impl Strategy<Value = Vec<Want>> {
    prop_oneof![
        3 => prop::collection::vec(stay(), 1..=3),
        2 => prop::collection::vec(lesson(), 1..=3),
        1 => prop::collection::vec(prop_oneof![stay(), lesson()], 2..=3),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let ttl = prop_oneof![
        4 => prop::sample::select(vec![30u32, 60, 600, 3600]),
        1 => Just(0u32),
        1 => Just(3601u32),
    ];
    prop_oneof![
        6 => (hold_items(), ttl.clone())
            .prop_map(|(items, ttl)| Command::Hold { items, ttl }),
        4 => (any::<usize>(), any::<u8>()).prop_map(|(hold, mask)| Command::Confirm { hold, mask }),
        2 => any::<usize>().prop_map(|hold| Command::Release { hold }),
        2 => (any::<usize>(), ttl).prop_map(|(hold, ttl)| Command::Extend { hold, ttl }),
        3 => prop::sample::select(vec![1i64, 29, 30, 300, 1800, 3600])
            .prop_map(|seconds| Command::Advance { seconds }),
        2 => Just(Command::ExpireDue),
        1 => (
            prop::sample::select(vec!["villa", "double"]),
            0..NIGHTS,
            1..=2u32,
            prop::option::of(1..=3u32)
        )
            .prop_map(|(resource, first, nights, units)| Command::AddBlock {
                resource,
                first,
                nights: nights.min(NIGHTS - first),
                units: units.map(|u| u.min(capacity(resource))),
            }),
        1 => any::<usize>().prop_map(|block| Command::RemoveBlock { block }),
    ]
}

/// One ledger: a night of a nightly resource or a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ledger {
    Night(&'static str, u32),
    Lesson(u32, usize),
}

impl Ledger {
    fn capacity(self) -> u32 {
        match self {
            Ledger::Night(resource, _) => capacity(resource),
            Ledger::Lesson(..) => LESSON_SEATS,
        }
    }
}

fn night(n: u32) -> NaiveDate {
    d(7, 1 + n)
}

fn lesson_start(day: u32, slot: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 1 + day, LESSON_HOURS_UTC[slot], 0, 0)
        .unwrap()
}

impl Want {
    fn request(&self) -> QuoteRequest {
        let item = match *self {
            Want::Stay {
                resource,
                first,
                nights,
            } => Item::stay(
                rid(resource),
                Stay::new(night(first), night(first + nights)).unwrap(),
                Party::adults(2).unwrap(),
            ),
            Want::Lesson { day, slot, seats } => Item::session(
                rid("surf-lesson"),
                lesson_start(day, slot),
                Party::adults(seats).unwrap(),
            ),
        };
        QuoteRequest::new(item)
    }

    fn uses(&self) -> Vec<(Ledger, u32)> {
        match *self {
            Want::Stay {
                resource,
                first,
                nights,
            } => (first..first + nights)
                .map(|n| (Ledger::Night(resource, n), 1))
                .collect(),
            Want::Lesson { day, slot, seats } => vec![(Ledger::Lesson(day, slot), seats)],
        }
    }
}

#[derive(Debug, Clone)]
struct ModelHold {
    id: HoldId,
    items: Vec<Want>,
    expires_at: DateTime<Utc>,
    max_until: DateTime<Utc>,
    /// Set once, when the hold leaves the active state.
    resolved: Option<HoldState>,
}

impl ModelHold {
    fn state_at(&self, now: DateTime<Utc>) -> HoldState {
        match &self.resolved {
            Some(state) => state.clone(),
            None if now >= self.expires_at => HoldState::Expired {
                at: self.expires_at,
            },
            None => HoldState::Active,
        }
    }
}

struct ModelBlock {
    id: BlockId,
    resource: &'static str,
    first: u32,
    nights: u32,
    units: Option<u32>,
}

/// What the engine should hold.
#[derive(Default)]
struct Model {
    holds: Vec<ModelHold>,
    booked: BTreeMap<Ledger, u32>,
    blocks: Vec<ModelBlock>,
    next_key: usize,
}

impl Model {
    fn blocked(&self, ledger: Ledger) -> u32 {
        let Ledger::Night(resource, n) = ledger else {
            return 0;
        };
        let total: u32 = self
            .blocks
            .iter()
            .filter(|b| b.resource == resource && b.first <= n && n < b.first + b.nights)
            .map(|b| b.units.unwrap_or(capacity(resource)))
            .sum();
        total.min(capacity(resource))
    }

    fn held(&self, ledger: Ledger, now: DateTime<Utc>) -> u32 {
        self.holds
            .iter()
            .filter(|h| h.state_at(now) == HoldState::Active)
            .flat_map(|h| h.items.iter().flat_map(Want::uses))
            .filter(|(l, _)| *l == ledger)
            .map(|(_, units)| units)
            .sum()
    }

    fn available(&self, ledger: Ledger, now: DateTime<Utc>) -> u32 {
        ledger
            .capacity()
            .saturating_sub(self.blocked(ledger))
            .saturating_sub(self.held(ledger, now))
            .saturating_sub(self.booked.get(&ledger).copied().unwrap_or(0))
    }

    fn key(&mut self, prefix: &str) -> String {
        self.next_key += 1;
        format!("{prefix}-{}", self.next_key)
    }

    /// The model's verdict on a command that needs an active hold.
    fn check_active(&self, hold: &ModelHold, now: DateTime<Utc>) -> Result<(), &'static str> {
        match hold.state_at(now) {
            HoldState::Active => Ok(()),
            HoldState::Expired { .. } => Err("HOLD_EXPIRED"),
            _ => Err("HOLD_ALREADY_RESOLVED"),
        }
    }
}

fn code<T>(result: &reservo::Result<T>) -> Result<(), String> {
    match result {
        Ok(_) => Ok(()),
        Err(err) => Err(err.code().to_owned()),
    }
}

fn expect(
    step: &Command,
    model: Result<(), &'static str>,
    engine: Result<(), String>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        model.map_err(str::to_owned),
        engine,
        "model and engine disagree on {:?}",
        step
    );
    Ok(())
}

fn guest() -> Customer {
    Customer::new("Ana Lima", "+351912345678", None).unwrap()
}

async fn apply(w: &World, model: &mut Model, step: &Command) -> Result<(), TestCaseError> {
    let now = w.clock.now();
    match step {
        Command::Hold { items, ttl } => {
            let mut need: BTreeMap<Ledger, u32> = BTreeMap::new();
            for (ledger, units) in items.iter().flat_map(Want::uses) {
                *need.entry(ledger).or_default() += units;
            }
            // A booking is at one property: the rentals' or the surf school's.
            let lessons = items.iter().filter(|i| matches!(i, Want::Lesson { .. }));
            let mixed = lessons.count() % items.len() != 0;
            let verdict = if *ttl == 0 || *ttl > 3600 || mixed {
                Err("INVALID_INPUT")
            } else if need.iter().any(|(l, n)| model.available(*l, now) < *n) {
                Err("UNAVAILABLE")
            } else {
                Ok(())
            };
            let request = HoldRequest::new(
                model.key("hold"),
                items.iter().map(Want::request).collect(),
                *ttl,
            );
            let result = w.engine.hold(&request).await;
            expect(step, verdict, code(&result))?;
            if let Ok(hold) = result {
                prop_assert_eq!(hold.expires_at, now + Duration::seconds(i64::from(*ttl)));
                model.holds.push(ModelHold {
                    id: hold.id,
                    items: items.clone(),
                    expires_at: hold.expires_at,
                    max_until: hold.max_until,
                    resolved: None,
                });
            }
        }
        Command::Confirm { hold, mask } => {
            if model.holds.is_empty() {
                return Ok(());
            }
            let index = hold % model.holds.len();
            let count = model.holds[index].items.len();
            let chosen: Vec<usize> = (0..count).filter(|i| mask & (1 << i) != 0).collect();
            let items = (!chosen.is_empty() && chosen.len() < count).then(|| chosen.clone());
            let request = ConfirmRequest {
                idempotency_key: model.key("confirm"),
                hold: model.holds[index].id.clone(),
                customer: Some(guest()),
                items: items.clone(),
                attribution: Default::default(),
                metadata: Default::default(),
            };
            let verdict = model.check_active(&model.holds[index], now);
            let result = w.engine.confirm(&request).await;
            expect(step, verdict, code(&result))?;
            if let Ok(booking) = result {
                let target = &mut model.holds[index];
                let kept: Vec<usize> = items.unwrap_or_else(|| (0..count).collect());
                for i in kept {
                    for (ledger, units) in target.items[i].uses() {
                        *model.booked.entry(ledger).or_default() += units;
                    }
                }
                target.resolved = Some(HoldState::Confirmed {
                    booking: booking.id,
                    at: now,
                });
            }
        }
        Command::Release { hold } => {
            if model.holds.is_empty() {
                return Ok(());
            }
            let index = hold % model.holds.len();
            let verdict = model.check_active(&model.holds[index], now);
            let request = ReleaseRequest::new(model.key("release"), model.holds[index].id.clone());
            let result = w.engine.release(&request).await;
            expect(step, verdict, code(&result))?;
            if let Ok(released) = result {
                // A retry with the same key answers with the hold again.
                let replay = w.engine.release(&request).await;
                prop_assert_eq!(
                    replay.map(|h| h.state).map_err(|e| e.code()),
                    Ok(released.state)
                );
                model.holds[index].resolved = Some(HoldState::Released { at: now });
            }
        }
        Command::Extend { hold, ttl } => {
            if model.holds.is_empty() {
                return Ok(());
            }
            let index = hold % model.holds.len();
            let key = model.key("extend");
            let target = &model.holds[index];
            let expires_at = now + Duration::seconds(i64::from(*ttl));
            let verdict = if *ttl == 0 {
                Err("INVALID_INPUT")
            } else {
                model.check_active(target, now).and_then(|()| {
                    if expires_at > target.max_until {
                        Err("HOLD_EXTENSION_LIMIT")
                    } else {
                        Ok(())
                    }
                })
            };
            let request = ExtendRequest::new(key, target.id.clone(), *ttl);
            let result = w.engine.extend(&request).await;
            expect(step, verdict, code(&result))?;
            if let Ok(extended) = result {
                // A retry with the same key does not move the expiry again.
                let replay = w.engine.extend(&request).await;
                prop_assert_eq!(
                    replay.map(|h| h.expires_at).map_err(|e| e.code()),
                    Ok(extended.expires_at)
                );
                model.holds[index].expires_at = expires_at;
            }
        }
        Command::Advance { seconds } => w.clock.advance(Duration::seconds(*seconds)),
        Command::ExpireDue => {
            let mut due: Vec<&ModelHold> = model
                .holds
                .iter()
                .filter(|h| h.resolved.is_none() && h.expires_at <= now)
                .collect();
            due.sort_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id)));
            let due: Vec<HoldId> = due.into_iter().map(|h| h.id.clone()).collect();
            let expired = w.engine.expire_due(1000).await.unwrap();
            prop_assert_eq!(&expired, &due);
            for hold in model.holds.iter_mut().filter(|h| due.contains(&h.id)) {
                hold.resolved = Some(HoldState::Expired {
                    at: hold.expires_at,
                });
            }
        }
        Command::AddBlock {
            resource,
            first,
            nights,
            units,
        } => {
            let id = BlockId::new(model.key("block")).unwrap();
            let takes = units.unwrap_or(capacity(resource));
            let verdict = if (*first..first + nights)
                .any(|n| model.available(Ledger::Night(resource, n), now) < takes)
            {
                Err("UNAVAILABLE")
            } else {
                Ok(())
            };
            let block = Block {
                id: id.clone(),
                resource: rid(resource),
                span: BlockSpan::Nights {
                    from: night(*first),
                    to: night(first + nights),
                },
                units: *units,
                reason: BlockReason::OwnerUse,
            };
            let result = w.engine.add_block(block).await;
            expect(step, verdict, code(&result))?;
            if result.is_ok() {
                model.blocks.push(ModelBlock {
                    id,
                    resource,
                    first: *first,
                    nights: *nights,
                    units: *units,
                });
            }
        }
        Command::RemoveBlock { block } => {
            if model.blocks.is_empty() {
                return Ok(());
            }
            let removed = model.blocks.remove(block % model.blocks.len());
            w.engine
                .remove_block(&rid(removed.resource), &removed.id)
                .await
                .unwrap();
        }
    }
    Ok(())
}

/// The invariants, read back from the engine after every step.
async fn check(w: &World, model: &Model) -> Result<(), TestCaseError> {
    let now = w.clock.now();
    for resource in ["villa", "double"] {
        let nights = w
            .engine
            .night_availability(&rid(resource), night(0), night(NIGHTS))
            .await
            .unwrap();
        for (n, counts) in (0..NIGHTS).zip(nights) {
            let ledger = Ledger::Night(resource, n);
            prop_assert!(
                counts.blocked + counts.held + counts.booked <= counts.capacity,
                "{:?} over capacity: {:?}",
                ledger,
                counts
            );
            let modelled = (
                model.blocked(ledger),
                model.held(ledger, now),
                model.booked.get(&ledger).copied().unwrap_or(0),
                model.available(ledger, now),
            );
            let counted = (counts.blocked, counts.held, counts.booked, counts.available);
            prop_assert_eq!(counted, modelled, "{:?}", ledger);
        }
    }
    let sessions = w
        .engine
        .session_availability(&rid("surf-lesson"), d(7, 1), d(7, 1 + LESSON_DAYS))
        .await
        .unwrap();
    prop_assert_eq!(sessions.len(), LESSON_DAYS as usize * 2);
    for (i, counts) in sessions.iter().enumerate() {
        let ledger = Ledger::Lesson(i as u32 / 2, i % 2);
        prop_assert!(
            counts.held + counts.booked <= counts.capacity,
            "{:?} over capacity: {:?}",
            ledger,
            counts
        );
        let modelled = (
            model.held(ledger, now),
            model.booked.get(&ledger).copied().unwrap_or(0),
        );
        prop_assert_eq!((counts.held, counts.booked), modelled, "{:?}", ledger);
    }
    for hold in &model.holds {
        let stored = w.engine.hold_by_id(&hold.id).await.unwrap();
        prop_assert_eq!(stored.expires_at, hold.expires_at);
        // A resolved hold's state is the one it resolved to, for ever.
        prop_assert_eq!(stored.state_at(now), hold.state_at(now), "{:?}", hold.id);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn engine_agrees_with_the_model_and_never_oversells(
        steps in prop::collection::vec(command(), 1..40)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let w = world().await;
            prop_assert_eq!(w.clock.now(), start_of_tests());
            let mut model = Model::default();
            for step in &steps {
                apply(&w, &mut model, step).await?;
                check(&w, &model).await?;
            }
            Ok(())
        })?;
    }
}
