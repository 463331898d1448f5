//! The two symmetric primitives of the OT layer, both on AES (RustCrypto `aes`, which uses
//! AES-NI / ARMv8 AES when the CPU has them and a constant-time bitsliced implementation
//! otherwise):
//!
//! * [`keystream`]: the **PRG** — AES-256 in counter mode (`ctr::Ctr128BE`) under a 32-byte key,
//!   from an initial counter block: all-zero under the keys that are fresh hash outputs (each
//!   used for one stream only), and a fresh per-extension block under the base-OT seeds (which
//!   key one column in every extension).
//! * [`Tccr`]: the **tweakable correlation-robust hash** that turns the OT extension's correlated
//!   rows into random-OT pads — Roy's Fig. 11 asks for exactly this (a TCR hash), and
//!   `H(x, i) = π(π(x) ⊕ i) ⊕ π(x)` with `π` = AES-128 under a key known to both parties is
//!   the TCCR hash of Guo, Katz, Wang and Yu (ePrint 2019/074, §7.4, ideal-permutation model).
//!   The key is a per-multiplication transcript output (not one global constant), so `π` is a
//!   fresh permutation for every multiplication.
//!
//! Both replace the SHA-256 / ChaCha20 constructions of version 1 of the extension and the
//! multiplication (per-scalar SHA-256 pads and per-column ChaCha20 were about half of a
//! multiplication's time); AES with hardware support is an order of magnitude cheaper per output
//! byte. Byte-exact definitions: `SPEC.md`.

use aes::cipher::{BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
use aes::{Aes128Enc, Block};
use wallet_types::Error;
use zeroize::Zeroize;

type Ctr = ctr::Ctr128BE<aes::Aes256Enc>;

/// Fills `out` with the AES-256-CTR keystream under `key` from the initial counter block `iv`
/// (incremented as a 128-bit big-endian integer).
///
/// The all-zero `iv` is for keys that are fresh hash outputs, each keying one stream only (the
/// gadget, the check challenge `χ`, the check matrix): a counter block is then never repeated
/// under one key, which is all CTR mode needs. A key that keys several streams (a base-OT seed)
/// must come with a fresh `iv` per stream.
pub(crate) fn keystream(key: &[u8; 32], iv: &[u8; 16], out: &mut [u8]) {
    out.fill(0);
    let mut cipher = Ctr::new(&(*key).into(), &(*iv).into());
    cipher.apply_keystream(out);
}

/// [`keystream`] read as little-endian 64-bit words (the same IV rule).
pub(crate) fn keystream_u64(key: &[u8; 32], iv: &[u8; 16], out: &mut [u64]) {
    const WORDS: usize = 16;
    let mut cipher = Ctr::new(&(*key).into(), &(*iv).into());
    let mut buf = [[0u8; 8]; WORDS];
    let mut chunks = out.chunks_exact_mut(WORDS);
    for chunk in &mut chunks {
        words_of(&mut cipher, &mut buf, chunk);
    }
    // The last, shorter chunk: a prefix of the buffer, so the keystream is not advanced past
    // what `out` takes (the same bytes as one call over all of `out`).
    let rest = chunks.into_remainder();
    let (head, _) = buf.split_at_mut(rest.len().min(WORDS));
    words_of(&mut cipher, head, rest);
    buf.zeroize();
}

/// `out[i]` = the next 8 keystream bytes as a little-endian word, through the scratch space
/// `buf` of `out.len()` words (one call of the cipher for all of them).
fn words_of(cipher: &mut Ctr, buf: &mut [[u8; 8]], out: &mut [u64]) {
    let bytes = buf.as_flattened_mut();
    bytes.fill(0);
    cipher.apply_keystream(bytes);
    for (o, b) in out.iter_mut().zip(buf.iter()) {
        *o = u64::from_le_bytes(*b);
    }
}

/// The tweakable correlation-robust hash `H(x, (j, k)) = π(π(x) ⊕ T(j, k)) ⊕ π(x)`, with `π` =
/// AES-128 under the key given to [`Tccr::new`] and `T(j, k) = u64be(j) ‖ u64be(k)`; `x` is
/// read as 16 bytes little-endian.
pub(crate) struct Tccr {
    pi: Aes128Enc,
}

impl Tccr {
    /// `π` = AES-128 under `key`.
    pub(crate) fn new(key: &[u8; 16]) -> Self {
        Self {
            pi: Aes128Enc::new(&(*key).into()),
        }
    }

    /// For every input `(x_i, j_i)`: `out[i·per + k] = H(x_i, (j_i, k))`, `k < per`, where
    /// `per = out.len() / inputs.len()`. `sigma` is scratch space of at least `inputs.len()`
    /// blocks. Two batched calls of `π` (so that AES-NI pipelines them).
    ///
    /// `Error::Internal` (and `out` untouched) unless `out.len()` is a non-zero multiple of
    /// `inputs.len()` and `sigma` is long enough: a caller's sizing bug must not leave pads
    /// uncomputed. No inputs and no outputs is a no-op.
    pub(crate) fn hash(
        &self,
        inputs: &[(u128, u64)],
        sigma: &mut [Block],
        out: &mut [Block],
    ) -> Result<(), Error> {
        if inputs.is_empty() && out.is_empty() {
            return Ok(());
        }
        let sigma = sigma.get_mut(..inputs.len()).ok_or(Error::Internal)?;
        let per = out.len().checked_div(inputs.len()).ok_or(Error::Internal)?;
        if per == 0 || per * inputs.len() != out.len() {
            return Err(Error::Internal);
        }
        for (s, (x, _)) in sigma.iter_mut().zip(inputs) {
            *s = Block::from(x.to_le_bytes());
        }
        self.pi.encrypt_blocks(sigma);
        for ((s, (_, j)), outs) in sigma.iter().zip(inputs).zip(out.chunks_exact_mut(per)) {
            // T(j, k) = u64be(j) ‖ u64be(k) is the big-endian integer j·2^64 + k.
            let base = u128::from_be_bytes((*s).into()) ^ (u128::from(*j) << 64);
            for (k, o) in outs.iter_mut().enumerate() {
                *o = Block::from((base ^ k as u128).to_be_bytes());
            }
        }
        self.pi.encrypt_blocks(out);
        for (s, outs) in sigma.iter().zip(out.chunks_exact_mut(per)) {
            let sv = u128::from_be_bytes((*s).into());
            for o in outs.iter_mut() {
                *o = Block::from((u128::from_be_bytes((*o).into()) ^ sv).to_be_bytes());
            }
        }
        for s in sigma.iter_mut() {
            s.zeroize();
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// AES-256-CTR with a zero IV is AES-256 of the counter blocks 0, 1, 2, …: checked against
    /// the block cipher directly, and AES-256 itself against FIPS 197 Appendix C.3.
    #[test]
    fn keystream_is_aes256_ctr() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let aes = aes::Aes256::new(&key.into());
        let mut b = Block::from(core::array::from_fn::<u8, 16, _>(|i| (i as u8) * 0x11));
        aes.encrypt_block(&mut b);
        assert_eq!(
            b.as_slice(),
            &[
                0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49,
                0x60, 0x89
            ]
        );
        let mut iv = [0u8; 16];
        iv[15] = 0xfe;
        let mut ks = [0u8; 48];
        keystream(&key, &iv, &mut ks);
        for (i, chunk) in ks.chunks_exact(16).enumerate() {
            // 0x…fe, 0x…ff, then the carry into byte 14.
            let mut ctr = [0u8; 16];
            let c = 0xfeu16 + i as u16;
            ctr[14] = (c >> 8) as u8;
            ctr[15] = c as u8;
            let mut blk = Block::from(ctr);
            aes.encrypt_block(&mut blk);
            assert_eq!(chunk, blk.as_slice());
        }
        let mut words = [0u64; 6];
        keystream_u64(&key, &iv, &mut words);
        for (w, c) in words.iter().zip(ks.chunks_exact(8)) {
            assert_eq!(w.to_le_bytes(), c);
        }
        let mut long = [0u64; 40];
        keystream_u64(&key, &iv, &mut long);
        let mut long_bytes = [0u8; 320];
        keystream(&key, &iv, &mut long_bytes);
        for (w, c) in long.iter().zip(long_bytes.chunks_exact(8)) {
            assert_eq!(w.to_le_bytes(), c);
        }
    }

    /// `H(x, (j, k)) = π(π(x) ⊕ T(j, k)) ⊕ π(x)`, computed block by block; AES-128 against FIPS
    /// 197 Appendix C.1.
    #[test]
    fn tccr_matches_definition() {
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let pi = aes::Aes128::new(&key.into());
        let mut b = Block::from(core::array::from_fn::<u8, 16, _>(|i| (i as u8) * 0x11));
        pi.encrypt_block(&mut b);
        assert_eq!(
            b.as_slice(),
            &[
                0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4,
                0xc5, 0x5a
            ]
        );
        let h = Tccr::new(&key);
        let x = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        let mut sigma = [Block::default(); 2];
        let mut both = [Block::default(); 12];
        h.hash(&[(x ^ 1, 77), (x, 77)], &mut sigma, &mut both)
            .unwrap();
        let out = &both[6..];
        let mut sigma = Block::from(x.to_le_bytes());
        pi.encrypt_block(&mut sigma);
        for (k, o) in out.iter().enumerate() {
            let mut t = [0u8; 16];
            t[..8].copy_from_slice(&77u64.to_be_bytes());
            t[8..].copy_from_slice(&(k as u64).to_be_bytes());
            let mut inner = Block::default();
            for i in 0..16 {
                inner[i] = sigma[i] ^ t[i];
            }
            pi.encrypt_block(&mut inner);
            for i in 0..16 {
                assert_eq!(o[i], inner[i] ^ sigma[i]);
            }
        }
        // Distinct tweaks give distinct outputs; so do x and x ⊕ Δ.
        assert_ne!(out[0], out[1]);
        assert_ne!(both[0], out[0]);
    }

    /// A sizing bug of the caller is an error, never pads left at their old value.
    #[test]
    fn tccr_refuses_mis_sized_buffers() {
        let h = Tccr::new(&[7u8; 16]);
        let inputs = [(1u128, 0u64), (2, 1)];
        let marker = Block::from([0xa5u8; 16]);
        for (sigma_len, out_len) in [(1usize, 4usize), (2, 3), (2, 1), (2, 0)] {
            let mut sigma = [Block::default(); 2];
            let mut out = [marker; 4];
            let out = &mut out[..out_len];
            assert_eq!(
                h.hash(&inputs, &mut sigma[..sigma_len], out),
                Err(Error::Internal),
                "{sigma_len} {out_len}"
            );
            assert!(out.iter().all(|b| *b == marker));
        }
        let mut out = [marker; 1];
        assert_eq!(h.hash(&[], &mut [], &mut out), Err(Error::Internal));
        assert_eq!(h.hash(&[], &mut [], &mut []), Ok(()));
    }
}
