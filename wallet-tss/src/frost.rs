//! FROST(Ed25519, SHA-512) per RFC 9591. Not written yet.
