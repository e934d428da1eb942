//! Commit batches for store tests, written the short way.

#![allow(dead_code)]

use reservo::ports::{CommitBatch, Expectation, Mutation, NewEvent, Version};

pub fn put(key: &str, value: &[u8]) -> Mutation {
    Mutation::Put {
        key: key.into(),
        value: value.to_vec(),
    }
}

pub fn delete(key: &str) -> Mutation {
    Mutation::Delete { key: key.into() }
}

/// `key` expected at `version`, or absent for `None`.
pub fn expect(key: &str, version: Option<Version>) -> Expectation {
    Expectation {
        key: key.into(),
        version,
    }
}

/// An event of `kind` with an empty JSON object as its payload.
pub fn event(kind: &str) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        payload: b"{}".to_vec(),
    }
}

pub fn batch(expectations: Vec<Expectation>, mutations: Vec<Mutation>) -> CommitBatch {
    CommitBatch {
        expectations,
        mutations,
        ..CommitBatch::default()
    }
}
