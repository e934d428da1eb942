//! Prints what one hold + confirm of the `engine/hold_confirm` bench
//! writes: each new record's key, size and bytes, then each outbox event.
//! For work on the record layout (which keys a booking touches, and how
//! big its records are):
//!
//! ```text
//! cargo run --release -p reservo-benches --example dump_booking
//! ```

use reservo_benches::{hold_and_confirm, hotel, runtime};

fn main() {
    runtime().block_on(async {
        let w = hotel().await;
        let before = w.store.dump();
        hold_and_confirm(&w.engine, 0).await;
        let after = w.store.dump();
        for record in &after.records {
            if !before.records.iter().any(|b| b.key == record.key) {
                let text = String::from_utf8_lossy(&record.value);
                println!("{} ({} bytes) {text}", record.key, record.value.len());
            }
        }
        for event in &after.events[before.events.len()..] {
            let text = String::from_utf8_lossy(&event.payload);
            println!(
                "event {} ({} bytes) {text}",
                event.kind,
                event.payload.len()
            );
        }
    });
}
