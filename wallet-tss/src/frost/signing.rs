//! Signing machines (todo).
