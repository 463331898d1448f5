//! Two-party ECDSA on secp256k1 after DKLs23 (ePrint 2023/765). Not written yet.
