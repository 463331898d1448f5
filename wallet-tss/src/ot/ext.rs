//! OT extension: **SoftSpokenOT with k = 1** (Roy, ePrint 2022/192) — the IKNP matrix shape
//! with Roy's consistency check — over the [`BASE_OTS`] = 128 base OTs of [`super::base`].
//!
//! Why this one: DKLs23 recommends SoftSpokenOT; the KOS15 check that DKLs18/19 used has a
//! flawed proof (Roy §4.1) and DKLs18's 2023 revision withdraws it. With `k = 1` (field `F_2`,
//! repetition code) the computation is IKNP's, and the check is Roy's Fig. 9, proven in his
//! Theorem 4.5. Larger `k` trades communication (which is small here: the VOLE correction
//! dominates) for `2^k/k` more PRG work, which is what we want to avoid.
//!
//! # Setup (from the base OTs)
//! Bob (extension receiver) holds seed pairs `(s⁰_i, s¹_i)`, `i < 128`; Alice (extension sender)
//! holds `Δ ∈ {0,1}^128` and `s^{Δ_i}_i` ([`MulReceiverSetup`], [`MulSenderSetup`]).
//!
//! # One extension of `n` OTs (Fig. 8 with `C = Rep`, then Fig. 9, then Fig. 11)
//! Let `L = n + M_C` (the last [`M_C`] OTs only mask the check and are discarded).
//! 1. *(Bob, Fig. 8)* `t^b_i = PRG(s^b_i, ctx) ∈ {0,1}^L`; the choice bits are
//!    `x = t⁰_0 ⊕ t¹_0`; he sends `u_i = t⁰_i ⊕ t¹_i ⊕ x` for `i = 1..127` (`u_0 = 0` implicitly).
//!    His rows `V_j` are the rows of the matrix with columns `t⁰_i`.
//! 2. *(Alice, Fig. 8)* `q_i = PRG(s^{Δ_i}_i, ctx) ⊕ Δ_i·u_i`; her rows are
//!    `W_j = V_j ⊕ x_j·Δ`.
//! 3. *(check, Fig. 9)* `R = [X | I_{M_C}]` with `X ∈ F_2^{M_C×n}` expanded from a Fiat–Shamir
//!    hash of `(ctx, u)` (DKLs23 §5.1 makes the check non-interactive the same way). Bob sends
//!    `ũ = R·x` and a hash of `Ṽ = R·V` (Roy's optimisation of sending a hash); Alice recomputes
//!    `R·W ⊕ ũ ⊗ Δ` and compares the hash. A mismatch is
//!    `Error::blame(bob, Reason::OtConsistency)`: **selective-failure leakage of `Δ`, never use
//!    this setup with this counterparty again**.
//! 4. *(Fig. 11)* the random OT outputs are tweaked hashes of the rows, `H(j, W_j)`,
//!    `H(j, W_j ⊕ Δ)` for Alice, `H(j, V_j)` for Bob; the tweak is the index `j` and the
//!    context (which includes both parties' fresh salts), see [`crate::mul`].
//!
//! `ctx` binds the setup id, both party ids, the multiplication's session id and Bob's fresh salt,
//! so every extension stretches the seeds into fresh pseudorandom columns (Bob's choice bits are
//! fresh every time). Reusing one `Δ` across many extensions is the standard use of an IKNP-style
//! extension (one long extension cut into blocks, each with its own check).
//!
//! Primitives: the PRG is AES-256-CTR (`src/sym.rs`) keyed by the base-OT seed, its initial
//! counter block taken from `ctx`; `ctx` and
//! every other hash input are [`Transcript`] outputs (domain-separated by protocol, version,
//! curve, session). Measured in `benches/benches/ot.rs`.

use alloc::vec;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wallet_types::{
    CurveId, DecodeError, Error, ObjectKind, PartyId, Reader, Reason, SecretBytes, SessionId,
    Transcript, WireObject, Writer,
};
use zeroize::{Zeroize, Zeroizing};

use super::{BASE_OTS, kinds};

/// Number of extra OTs that mask the consistency check (and the check's output width in bits):
/// the check's soundness error is `2^-M_C` per attempt (Roy, Theorem 4.5 with `p = 2`).
pub const M_C: usize = 192;
// ũ is packed into whole words, and the check's row blocks are whole words.
const _: () = assert!(M_C.is_multiple_of(64));

const PROTOCOL: &str = "wallet-tss/ot-ext";
const VERSION: u16 = 2;

// ---------------------------------------------------------------------------------------------
// The reusable setups
// ---------------------------------------------------------------------------------------------

/// Alice's reusable result of the pairwise setup: the extension sender's `Δ` (her base-OT choice
/// bits) and her 128 base-OT seeds `s^{Δ_i}_i`. Secret; not `Clone`; serialize with
/// [`WireObject::to_secret_bytes`] and store encrypted.
///
/// It contains nothing of Bob's: not his other seeds, not his future choice bits or inputs.
pub struct MulSenderSetup {
    setup_id: SessionId,
    me: PartyId,
    counterparty: PartyId,
    delta: SecretBytes<{ BASE_OTS / 8 }>,
    seeds: Vec<SecretBytes<32>>,
}

/// Bob's reusable result of the pairwise setup: both seeds `(s⁰_i, s¹_i)` of every base OT.
/// Secret; not `Clone`; serialize with [`WireObject::to_secret_bytes`] and store encrypted.
///
/// It contains nothing of Alice's: not `Δ`, not her inputs.
pub struct MulReceiverSetup {
    setup_id: SessionId,
    me: PartyId,
    counterparty: PartyId,
    seeds0: Vec<SecretBytes<32>>,
    seeds1: Vec<SecretBytes<32>>,
}

impl MulSenderSetup {
    pub(crate) fn new(
        setup_id: SessionId,
        me: PartyId,
        counterparty: PartyId,
        delta: SecretBytes<{ BASE_OTS / 8 }>,
        seeds: Vec<SecretBytes<32>>,
    ) -> Self {
        Self {
            setup_id,
            me,
            counterparty,
            delta,
            seeds,
        }
    }

    /// The session id of the setup run that produced this (identifies the pairing).
    pub fn setup_id(&self) -> &SessionId {
        &self.setup_id
    }

    /// This party (Alice, the VOLE sender).
    pub fn me(&self) -> PartyId {
        self.me
    }

    /// The counterparty (Bob, the VOLE receiver).
    pub fn counterparty(&self) -> PartyId {
        self.counterparty
    }

    /// An explicit copy (the type is deliberately not `Clone`: secrets are copied on purpose
    /// only, e.g. into one presign machine).
    pub fn duplicate(&self) -> Self {
        Self {
            setup_id: self.setup_id,
            me: self.me,
            counterparty: self.counterparty,
            delta: self.delta.duplicate(),
            seeds: self.seeds.iter().map(SecretBytes::duplicate).collect(),
        }
    }

    fn delta(&self) -> u128 {
        u128::from_le_bytes(*self.delta.expose())
    }
}

impl MulReceiverSetup {
    pub(crate) fn new(
        setup_id: SessionId,
        me: PartyId,
        counterparty: PartyId,
        seeds0: Vec<SecretBytes<32>>,
        seeds1: Vec<SecretBytes<32>>,
    ) -> Self {
        Self {
            setup_id,
            me,
            counterparty,
            seeds0,
            seeds1,
        }
    }

    /// The session id of the setup run that produced this (identifies the pairing).
    pub fn setup_id(&self) -> &SessionId {
        &self.setup_id
    }

    /// An explicit copy (the type is deliberately not `Clone`: secrets are copied on purpose
    /// only, e.g. into one presign machine).
    pub fn duplicate(&self) -> Self {
        Self {
            setup_id: self.setup_id,
            me: self.me,
            counterparty: self.counterparty,
            seeds0: self.seeds0.iter().map(SecretBytes::duplicate).collect(),
            seeds1: self.seeds1.iter().map(SecretBytes::duplicate).collect(),
        }
    }

    /// This party (Bob, the VOLE receiver).
    pub fn me(&self) -> PartyId {
        self.me
    }

    /// The counterparty (Alice, the VOLE sender).
    pub fn counterparty(&self) -> PartyId {
        self.counterparty
    }
}

impl core::fmt::Debug for MulSenderSetup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "MulSenderSetup({} → {}, <redacted>)",
            self.me, self.counterparty
        )
    }
}

impl core::fmt::Debug for MulReceiverSetup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "MulReceiverSetup({} ← {}, <redacted>)",
            self.me, self.counterparty
        )
    }
}

fn read_secret32(r: &mut Reader<'_>) -> Result<SecretBytes<32>, DecodeError> {
    let mut a = r.array::<32>()?;
    let s = SecretBytes::new(a);
    a.zeroize();
    Ok(s)
}

impl WireObject for MulSenderSetup {
    const KIND: ObjectKind = kinds::MUL_SENDER_SETUP;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + 32 + 4 + BASE_OTS / 8 + 32 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.setup_id);
        w.party(self.me);
        w.party(self.counterparty);
        w.bytes(self.delta.expose());
        for s in &self.seeds {
            w.bytes(s.expose());
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let setup_id = r.session()?;
        let me = r.party()?;
        let counterparty = r.party()?;
        if me == counterparty {
            return Err(DecodeError::InvalidValue);
        }
        let mut d = r.array::<{ BASE_OTS / 8 }>()?;
        let delta = SecretBytes::new(d);
        d.zeroize();
        let mut seeds = Vec::with_capacity(BASE_OTS);
        for _ in 0..BASE_OTS {
            seeds.push(read_secret32(r)?);
        }
        Ok(Self {
            setup_id,
            me,
            counterparty,
            delta,
            seeds,
        })
    }
}

impl WireObject for MulReceiverSetup {
    const KIND: ObjectKind = kinds::MUL_RECEIVER_SETUP;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + 32 + 4 + 64 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.setup_id);
        w.party(self.me);
        w.party(self.counterparty);
        for (s0, s1) in self.seeds0.iter().zip(&self.seeds1) {
            w.bytes(s0.expose());
            w.bytes(s1.expose());
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let setup_id = r.session()?;
        let me = r.party()?;
        let counterparty = r.party()?;
        if me == counterparty {
            return Err(DecodeError::InvalidValue);
        }
        let mut seeds0 = Vec::with_capacity(BASE_OTS);
        let mut seeds1 = Vec::with_capacity(BASE_OTS);
        for _ in 0..BASE_OTS {
            seeds0.push(read_secret32(r)?);
            seeds1.push(read_secret32(r)?);
        }
        Ok(Self {
            setup_id,
            me,
            counterparty,
            seeds0,
            seeds1,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// One extension
// ---------------------------------------------------------------------------------------------

/// Bob's extension message (Fig. 8's `u_1..u_127` and Fig. 9's check values), embedded in
/// [`crate::mul::MulMsg1`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtMessage {
    /// Columns `u_1..u_127`, each `L/64` words (little-endian bit order).
    u: Vec<u64>,
    /// `ũ = R·x` ([`M_C`] bits).
    check_u: [u64; M_C / 64],
    /// Hash of `Ṽ = R·V`.
    check_hash: [u8; 32],
}

/// Bob's output of one extension: his choice bits `x_j` and rows `V_j = H`-inputs for `j < n`.
pub struct ExtReceiverOutput {
    choices: Zeroizing<Vec<u64>>,
    rows: Zeroizing<Vec<u128>>,
}

/// Alice's output of one extension: her rows `W_j = V_j ⊕ x_j·Δ` for `j < n`.
pub struct ExtSenderOutput {
    rows: Zeroizing<Vec<u128>>,
}

impl ExtReceiverOutput {
    /// The choice bits `x_0, x_1, …` (0 or 1 as a `u8`, for constant-time masking), one per
    /// row.
    pub(crate) fn choice_bits(&self) -> impl Iterator<Item = u8> + '_ {
        self.choices
            .iter()
            .flat_map(|w| (0..64).map(move |i| ((w >> i) & 1) as u8))
            .take(self.rows.len())
    }
    /// The rows `V_0, V_1, …`.
    pub(crate) fn rows(&self) -> &[u128] {
        &self.rows
    }
    /// Number of usable OTs.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl ExtReceiverOutput {
    /// Encoded length for `n` OTs.
    pub(crate) const fn encoded_len(n: usize) -> usize {
        n / 8 + 16 * n
    }

    /// Writes the secret choice bits and rows (for a serialized receiver state).
    pub(crate) fn encode(&self, w: &mut Writer) {
        for c in self.choices.iter() {
            w.u64(*c);
        }
        for r in self.rows.iter() {
            let mut b = r.to_le_bytes();
            w.bytes(&b);
            b.zeroize();
        }
    }

    /// Reads what [`ExtReceiverOutput::encode`] wrote for `n` OTs.
    pub(crate) fn decode(r: &mut Reader<'_>, n: usize) -> Result<Self, DecodeError> {
        if Self::encoded_len(n) > r.remaining() {
            return Err(DecodeError::Truncated);
        }
        let mut choices = Zeroizing::new(Vec::with_capacity(n / 64));
        for _ in 0..n / 64 {
            choices.push(r.u64()?);
        }
        let mut rows = Zeroizing::new(Vec::with_capacity(n));
        for _ in 0..n {
            let mut b = r.array::<16>()?;
            rows.push(u128::from_le_bytes(b));
            b.zeroize();
        }
        Ok(Self { choices, rows })
    }
}

impl ExtSenderOutput {
    /// The rows `W_0, W_1, …`.
    pub(crate) fn rows(&self) -> &[u128] {
        &self.rows
    }
    /// Number of usable OTs.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl ExtMessage {
    /// Encoded length for `n` OTs.
    pub(crate) const fn encoded_len(n: usize) -> usize {
        (BASE_OTS - 1) * (n + M_C) / 8 + M_C / 8 + 32
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u64s(&self.u);
        w.u64s(&self.check_u);
        w.bytes(&self.check_hash);
    }

    pub(crate) fn decode(r: &mut Reader<'_>, n: usize) -> Result<Self, DecodeError> {
        let words = (BASE_OTS - 1) * (n + M_C) / 64;
        if words.saturating_mul(8) > r.remaining() {
            return Err(DecodeError::Truncated);
        }
        let mut u = Vec::with_capacity(words);
        for _ in 0..words {
            u.push(r.u64()?);
        }
        let mut check_u = [0u64; M_C / 64];
        for x in check_u.iter_mut() {
            *x = r.u64()?;
        }
        Ok(Self {
            u,
            check_u,
            check_hash: r.array::<32>()?,
        })
    }

    /// The bytes hashed into the Fiat–Shamir challenge (`u` only).
    fn u_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.u.len() * 8);
        for x in &self.u {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v
    }
}

/// The extension context: binds setup, parties, session and Bob's salt.
fn ext_transcript(
    setup_id: &SessionId,
    alice: PartyId,
    bob: PartyId,
    session: &SessionId,
    salt: &[u8; 32],
) -> Transcript {
    let mut t = Transcript::new(PROTOCOL, VERSION, Some(CurveId::Secp256k1), session);
    t.append("setup", setup_id.as_bytes());
    t.append_party("alice", alice);
    t.append_party("bob", bob);
    t.append("salt-bob", salt);
    t
}

/// The initial counter block of every column's PRG in one extension: the first 16 bytes of
/// `ctx = Text.out("prg")`, fresh for every extension.
fn column_iv(t: &Transcript) -> [u8; 16] {
    let ctx = t.output32("prg");
    let mut iv = [0u8; 16];
    for (d, c) in iv.iter_mut().zip(ctx.iter()) {
        *d = *c;
    }
    iv
}

/// `PRG(seed)`: the AES-256-CTR keystream ([`crate::sym::keystream`]) under the base-OT seed as
/// key, from the extension's counter block `iv` ([`column_iv`]). Every column has its own
/// seed, so no two columns share a key.
fn prg_column(iv: &[u8; 16], seed: &SecretBytes<32>, out: &mut [u64]) {
    crate::sym::keystream_u64(seed.expose(), iv, out);
}

/// In-place transpose of a 64×64 bit matrix (`a[r]` bit `c` ↔ `a[c]` bit `r`), by the
/// recursive block swap (six rounds of masked shifts, no data-dependent branches).
fn transpose64(a: &mut [u64; 64]) {
    let mut j = 32usize;
    let mut m: u64 = 0x0000_0000_FFFF_FFFF;
    while j != 0 {
        for chunk in a.chunks_exact_mut(2 * j) {
            let (lo, hi) = chunk.split_at_mut(j);
            for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                let t = ((*x >> j) ^ *y) & m;
                *y ^= t;
                *x ^= t << j;
            }
        }
        j >>= 1;
        m ^= m << j;
    }
}

/// Rows of the `L × 128` bit matrix whose columns are `cols` (128 columns of `words` words).
/// `Error::Internal` unless `cols` holds exactly the 128 columns.
fn transpose(cols: &[u64], words: usize) -> Result<Zeroizing<Vec<u128>>, Error> {
    if words == 0 || cols.len() != BASE_OTS * words {
        return Err(Error::Internal);
    }
    let mut rows = Zeroizing::new(vec![0u128; words * 64]);
    let mut block = Zeroizing::new([0u64; 64]);
    for (w, out) in rows.chunks_exact_mut(64).enumerate() {
        for half in 0..2 {
            // Word `w` of the columns `64·half .. 64·half + 63` (all 64 exist: length checked).
            let column_words = cols.iter().skip(half * 64 * words + w).step_by(words);
            for (b, c) in block.iter_mut().zip(column_words) {
                *b = *c;
            }
            transpose64(&mut block);
            for (row, b) in out.iter_mut().zip(block.iter()) {
                *row |= u128::from(*b) << (64 * half);
            }
        }
    }
    Ok(rows)
}

/// The check matrix `X ∈ F_2^{M_C × n}` (row-major, `n/64` words per row) from the Fiat–Shamir
/// challenge over `u`.
fn check_matrix(t: &Transcript, msg: &ExtMessage, n: usize) -> Vec<u64> {
    let mut t = t.clone();
    t.append("u-sha256", Sha256::digest(msg.u_bytes()).as_slice());
    let mut x = vec![0u64; M_C * n / 64];
    // Zero IV: the key is a fresh transcript output that keys this one stream.
    crate::sym::keystream_u64(&t.output32("check-matrix"), &[0u8; 16], &mut x);
    x
}

/// `R·rows` for `R = [X | I]`: the check rows `Ṽ_k = V_{n+k} ⊕ ⊕_j X_{kj}·V_j`.
///
/// Method of the four Russians: for each group of 8 rows, a table of the 256 XOR combinations,
/// indexed by the matching byte of each row of `X`. `X` is public (a Fiat–Shamir challenge), so
/// the secret table is read at public indices.
///
/// `Error::Internal` unless `rows` holds the `n + M_C` rows and `x` the `M_C` rows of `X`.
fn apply_check(x: &[u64], n: usize, rows: &[u128]) -> Result<Zeroizing<Vec<u128>>, Error> {
    let words = n / 64;
    if rows.len() != n + M_C || x.len() != M_C * words {
        return Err(Error::Internal);
    }
    let (data, extra) = rows.split_at(n);
    let mut out = Zeroizing::new(extra.to_vec());
    let mut table = Zeroizing::new([0u128; 256]);
    for (group, chunk) in data.chunks_exact(8).enumerate() {
        // table[s] = ⊕_{b: bit b of s} chunk[b], built by doubling: the entries with top bit
        // b are the entries below 2^b, each XOR chunk[b].
        for (b, row) in chunk.iter().enumerate() {
            let (low, high) = table.split_at_mut(1 << b);
            for (h, l) in high.iter_mut().zip(low.iter()) {
                *h = l ^ row;
            }
        }
        let (word, shift) = (group / 8, 8 * (group % 8));
        // Word `word` of every row of X, row k after row k − 1 (all M_C exist: length checked).
        for (o, xw) in out.iter_mut().zip(x.iter().skip(word).step_by(words)) {
            let byte = (xw >> shift) as u8;
            // A u8 into a 256-entry table: always in range (`get` only for the lint; the
            // compiler drops the check).
            *o ^= table.get(usize::from(byte)).copied().unwrap_or(0);
        }
    }
    Ok(out)
}

/// `ũ = R·x`: bit `k` is `x_{n+k} ⊕ parity(X_k ∧ x_{0..n})`. `Error::Internal` unless `x`
/// holds the `M_C` rows of `X` and `choices` the `n + M_C` bits.
fn apply_check_bits(x: &[u64], n: usize, choices: &[u64]) -> Result<[u64; M_C / 64], Error> {
    let words = n / 64;
    if words == 0 || x.len() != M_C * words || choices.len() != (n + M_C) / 64 {
        return Err(Error::Internal);
    }
    let (data, extra) = choices.split_at(words);
    let mut out = [0u64; M_C / 64];
    // n and M_C are multiples of 64: the extra bits x_{n..n+M_C} are the words after the
    // data, and word `o` of ũ takes the 64 rows of X from row 64·o on.
    for ((o, e), xrows) in out.iter_mut().zip(extra).zip(x.chunks_exact(64 * words)) {
        for (bit, xrow) in xrows.chunks_exact(words).enumerate() {
            let mut parity = (e >> bit) & 1;
            for (a, b) in xrow.iter().zip(data) {
                parity ^= u64::from((a & b).count_ones() & 1);
            }
            *o |= parity << bit;
        }
    }
    Ok(out)
}

fn check_hash(t: &Transcript, v: &[u128]) -> [u8; 32] {
    let mut t = t.clone();
    let mut bytes = Zeroizing::new(Vec::with_capacity(v.len() * 16));
    for r in v {
        bytes.extend_from_slice(&r.to_le_bytes());
    }
    t.append("check-v", &bytes);
    t.output32("check-hash")
}

fn check_n(n: usize) -> Result<(), Error> {
    if n == 0 || !n.is_multiple_of(64) || n > MAX_OTS {
        return Err(Error::Params(wallet_types::ParamError::OutOfRange));
    }
    Ok(())
}

/// Largest extension (in OTs) one call accepts.
pub const MAX_OTS: usize = 4096;

/// Bob's half of one extension (steps 1 and 3): `n` random OTs (a multiple of 64, at most
/// [`MAX_OTS`]) under this `session` and Bob's fresh `salt`.
pub fn extend_receive(
    setup: &MulReceiverSetup,
    session: &SessionId,
    salt: &[u8; 32],
    n: usize,
) -> Result<(ExtReceiverOutput, ExtMessage), Error> {
    receive(setup, session, salt, n, None)
}

/// A deviation of a malicious receiver, for the adversarial tests only: applied to the columns
/// `u_1..u_127` before the check values are computed (honestly, from Bob's own view).
type Deviation<'a> = Option<&'a dyn Fn(&mut [u64])>;

pub(crate) fn receive(
    setup: &MulReceiverSetup,
    session: &SessionId,
    salt: &[u8; 32],
    n: usize,
    deviation: Deviation<'_>,
) -> Result<(ExtReceiverOutput, ExtMessage), Error> {
    check_n(n)?;
    if setup.seeds0.len() != BASE_OTS || setup.seeds1.len() != BASE_OTS {
        return Err(Error::Internal);
    }
    let words = (n + M_C) / 64;
    let t = ext_transcript(&setup.setup_id, setup.counterparty, setup.me, session, salt);
    let iv = column_iv(&t);
    let mut t0 = Zeroizing::new(vec![0u64; BASE_OTS * words]);
    let mut t1 = Zeroizing::new(vec![0u64; words]);
    let mut x = Zeroizing::new(vec![0u64; words]);
    let mut u = vec![0u64; (BASE_OTS - 1) * words];
    let mut cols = t0.chunks_exact_mut(words);
    let mut seeds = setup.seeds0.iter().zip(&setup.seeds1);
    // Column 0: x = t⁰_0 ⊕ t¹_0 (Fig. 8 with the repetition code).
    let (Some(c0), Some((s0, s1))) = (cols.next(), seeds.next()) else {
        return Err(Error::Internal);
    };
    prg_column(&iv, s0, c0);
    prg_column(&iv, s1, &mut t1);
    for ((xw, a), b) in x.iter_mut().zip(c0.iter()).zip(t1.iter()) {
        *xw = a ^ b;
    }
    // Columns 1..127: u_i = t⁰_i ⊕ t¹_i ⊕ x (the counts match: checked above).
    for ((c0, (s0, s1)), ucol) in cols.zip(seeds).zip(u.chunks_exact_mut(words)) {
        prg_column(&iv, s0, c0);
        prg_column(&iv, s1, &mut t1);
        for (((uw, a), b), xw) in ucol.iter_mut().zip(c0.iter()).zip(t1.iter()).zip(x.iter()) {
            *uw = a ^ b ^ xw;
        }
    }
    if let Some(f) = deviation {
        f(&mut u);
    }
    let rows = transpose(&t0, words)?;
    let mut msg = ExtMessage {
        u,
        check_u: [0u64; M_C / 64],
        check_hash: [0u8; 32],
    };
    let xmat = check_matrix(&t, &msg, n);
    msg.check_u = apply_check_bits(&xmat, n, &x)?;
    let v_tilde = apply_check(&xmat, n, &rows)?;
    msg.check_hash = check_hash(&t, &v_tilde);
    let mut rows = rows;
    rows.truncate(n);
    let mut choices = x;
    choices.truncate(n / 64);
    Ok((ExtReceiverOutput { choices, rows }, msg))
}

/// Alice's half of one extension (steps 2 and 3): derive her rows and run the consistency check.
///
/// A failed check is `Error::blame(bob, Reason::OtConsistency)`: Bob learned (or tried to
/// learn) something about `Δ`; **the setup must never be used with him again**.
pub fn extend_send(
    setup: &MulSenderSetup,
    session: &SessionId,
    salt: &[u8; 32],
    n: usize,
    msg: &ExtMessage,
) -> Result<ExtSenderOutput, Error> {
    check_n(n)?;
    let words = (n + M_C) / 64;
    if msg.u.len() != (BASE_OTS - 1) * words {
        return Err(Error::blame(setup.counterparty, Reason::MalformedMessage));
    }
    if setup.seeds.len() != BASE_OTS {
        return Err(Error::Internal);
    }
    let t = ext_transcript(&setup.setup_id, setup.me, setup.counterparty, session, salt);
    let iv = column_iv(&t);
    let delta = setup.delta();
    let mut q = Zeroizing::new(vec![0u64; BASE_OTS * words]);
    let mut cols = q.chunks_exact_mut(words).zip(&setup.seeds);
    // Column 0 (u_0 = 0 implicitly).
    let Some((col, seed)) = cols.next() else {
        return Err(Error::Internal);
    };
    prg_column(&iv, seed, col);
    // Columns 1..127: q_i = PRG(s^{Δ_i}_i) ⊕ Δ_i·u_i (u's length checked above).
    for (i, ((col, seed), ucol)) in cols.zip(msg.u.chunks_exact(words)).enumerate() {
        prg_column(&iv, seed, col);
        let mask = 0u64.wrapping_sub(((delta >> (i + 1)) & 1) as u64);
        for (c, uw) in col.iter_mut().zip(ucol) {
            *c ^= uw & mask;
        }
    }
    let rows = transpose(&q, words)?;
    let xmat = check_matrix(&t, msg, n);
    let mut expect = apply_check(&xmat, n, &rows)?;
    // Ṽ'_k ⊕= ũ_k·Δ; ũ is packed in 64-bit words, 64 check rows per word.
    for (es, w) in expect.chunks_mut(64).zip(msg.check_u.iter()) {
        for (k, e) in es.iter_mut().enumerate() {
            let bit = (w >> k) & 1;
            *e ^= delta & 0u128.wrapping_sub(u128::from(bit));
        }
    }
    if !bool::from(check_hash(&t, &expect).ct_eq(&msg.check_hash)) {
        return Err(Error::blame(setup.counterparty, Reason::OtConsistency));
    }
    let mut rows = rows;
    rows.truncate(n);
    Ok(ExtSenderOutput { rows })
}

impl MulSenderSetup {
    /// `Δ` as a 128-bit word (crate-internal: the pads need `W_j ⊕ Δ`).
    pub(crate) fn delta_word(&self) -> Zeroizing<u128> {
        Zeroizing::new(self.delta())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};

    fn pair() -> (MulSenderSetup, MulReceiverSetup) {
        use crate::ot::base::*;
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let (alice, bob) = (PartyId::new(1).unwrap(), PartyId::new(2).unwrap());
        let s = SessionId::random(&mut rng);
        let (b1, m1) = setup_bob_round1(&s, bob, alice, &mut rng);
        let (a2, m2) = setup_alice_round2(&s, alice, bob, &m1, &mut rng).unwrap();
        let (b3, m3) = setup_bob_round3(b1, &m2).unwrap();
        let (a4, m4) = setup_alice_round4(a2, &m3).unwrap();
        let (bs, m5) = setup_bob_round5(b3, &m4).unwrap();
        (setup_alice_finish(a4, &m5).unwrap(), bs)
    }

    /// A malicious Bob who uses another choice bit in one column (the selective-failure attack
    /// on `Δ`) and computes the check values honestly from his own view passes exactly when
    /// `Δ_i = 0`: each attempt costs him an abort with probability 1/2 and teaches him one bit
    /// of `Δ` — which is why a failed check must end the pairing (`must_ban`).
    #[test]
    fn malicious_receiver_column_deviation_is_a_selective_failure_on_delta() {
        let (sa, sb) = pair();
        let bob = sa.counterparty();
        let n = 128;
        let words = (n + M_C) / 64;
        let delta = sa.delta();
        let mut seen = [false; 2];
        for (round, i) in [1usize, 2, 3, 5, 8, 13, 21, 34, 55, 89, 127]
            .into_iter()
            .enumerate()
        {
            let session = SessionId([round as u8; 32]);
            let salt = [9u8; 32];
            let dev = |u: &mut [u64]| u[(i - 1) * words] ^= 1 << (round % 64);
            let (_, msg) = receive(&sb, &session, &salt, n, Some(&dev)).unwrap();
            let result = extend_send(&sa, &session, &salt, n, &msg);
            let delta_i = (delta >> i) & 1;
            if delta_i == 1 {
                assert_eq!(result.err(), Some(Error::blame(bob, Reason::OtConsistency)));
            } else {
                assert!(result.is_ok());
            }
            seen[delta_i as usize] = true;
        }
        assert!(seen[0] && seen[1]);
        // An honest extension under the same setup passes.
        let (_, msg) = extend_receive(&sb, &SessionId([0xee; 32]), &[1; 32], n).unwrap();
        assert!(extend_send(&sa, &SessionId([0xee; 32]), &[1; 32], n, &msg).is_ok());
    }

    #[test]
    fn check_matches_naive() {
        let n = 128;
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let rows: Vec<u128> = (0..n + M_C)
            .map(|_| (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
            .collect();
        let x: Vec<u64> = (0..M_C * n / 64).map(|_| rng.next_u64()).collect();
        let fast = apply_check(&x, n, &rows).unwrap();
        for k in 0..M_C {
            let mut acc = rows[n + k];
            for j in 0..n {
                if (x[k * (n / 64) + j / 64] >> (j % 64)) & 1 == 1 {
                    acc ^= rows[j];
                }
            }
            assert_eq!(fast[k], acc);
        }
    }

    #[test]
    fn transpose_matches_bits() {
        let words = 2;
        let mut cols = vec![0u64; BASE_OTS * words];
        for (k, c) in cols.iter_mut().enumerate() {
            *c = (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        let rows = transpose(&cols, words).unwrap();
        for j in 0..words * 64 {
            for i in 0..BASE_OTS {
                let col_bit = (cols[i * words + j / 64] >> (j % 64)) & 1;
                let row_bit = (rows[j] >> i) & 1;
                assert_eq!(col_bit as u128, row_bit);
            }
        }
    }
}
