//! OT-based two-party multiplication (DKLs23 §3). Not written yet.
