//! Base OT and OT extension. Not written yet.
