//! DKG (todo).
