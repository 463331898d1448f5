#!/usr/bin/env python3
"""Independent implementation of wallet-kek/SPEC.md with the `cryptography` package.

Opens wallet-kek envelopes given a PRF output (and, where the installed `cryptography` has
Argon2id, a password or recovery answer), and re-derives the known-answer values frozen in
wallet-kek/tests/kat.rs. Written from SPEC.md alone; run:

    python3 wallet-kek/tests/python/open_envelope.py            # checks the KATs
    python3 wallet-kek/tests/python/open_envelope.py ENV_HEX CRED_ID_HEX PRF_HEX
"""
import hashlib
import struct
import sys
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

try:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
except ImportError:  # older cryptography: password slots are skipped
    Argon2id = None

HEADER = bytes([0x01, 0x04, 0x01, 0x00])
MIN_M, MIN_T, MIN_P = 19456, 2, 1
MAX_M, MAX_T, MAX_P = 1 << 20, 32, 16


class Reader:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("truncated")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def var(self, maxlen):
        n = self.u32()
        if n > maxlen:
            raise ValueError("length over bound")
        return self.take(n)


def hkdf(ikm, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)


def lp16(b):
    return struct.pack(">H", len(b)) + b


def prf_kek(prf, cred_id, rp_id, wallet_id):
    info = b"wallet-kek/prf-kek" + struct.pack(">H", 1) + lp16(cred_id) + lp16(rp_id) + wallet_id
    return hkdf(prf, info)


def text_kek(label, secret, salt, m, t, p, wallet_id):
    stretched = Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(secret)
    return hkdf(stretched, label + struct.pack(">H", 1) + wallet_id)


def normalize_password(s):
    return unicodedata.normalize("NFKC", s).encode()


WHITE_SPACE = set(
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def normalize_answer(s):
    s = unicodedata.normalize("NFKC", s)
    s = "".join(c.lower() for c in s)
    s = unicodedata.normalize("NFKC", s)
    words, cur = [], ""
    for c in s:
        if c in WHITE_SPACE:
            if cur:
                words.append(cur)
            cur = ""
        else:
            cur += c
    if cur:
        words.append(cur)
    return " ".join(words).encode()


def parse(env):
    r = Reader(env)
    if r.take(4) != HEADER:
        raise ValueError("header")
    wallet_id = r.take(32)
    kind, tag = r.u8(), r.u16()
    payload_nonce = r.take(12)
    payload_ct = r.var(65536 + 16)
    table_start = r.i
    n = r.u16()
    if not 1 <= n <= 16:
        raise ValueError("slot count")
    slots, last_id = [], 0
    for _ in range(n):
        start = r.i
        sid = r.u16()
        if sid <= last_id:
            raise ValueError("slot ids not increasing")
        last_id = sid
        skind = r.u8()
        s = {"id": sid, "kind": skind}
        if skind == 1:
            s["cred_id"] = r.var(1023)
            s["rp_id"] = r.var(255)
            s["salt"] = r.take(32)
        elif skind in (2, 3):
            s["m"], s["t"], s["p"] = r.u32(), r.u32(), r.u32()
            if not (MIN_M <= s["m"] <= MAX_M and MIN_T <= s["t"] <= MAX_T and MIN_P <= s["p"] <= MAX_P):
                raise ValueError("Argon2 parameters out of range")
            s["argon_salt"] = r.take(16)
            if skind == 3:
                s["question"] = r.var(255).decode()
        else:
            raise ValueError("slot kind")
        # The slot description: everything from the kind byte to the end of the params.
        s["desc"] = env[start + 2:r.i]
        s["nonce"] = r.take(12)
        s["wrapped"] = r.take(48)
        slots.append(s)
    if r.i != len(env):
        raise ValueError("trailing bytes")
    return {
        "wallet_id": wallet_id, "kind": kind, "tag": tag, "payload_nonce": payload_nonce,
        "payload_ct": payload_ct, "table": env[table_start:], "slots": slots,
    }


def open_with_kek(e, slot, kek):
    slot_aad = HEADER + e["wallet_id"] + b"\x02" + struct.pack(">H", slot["id"]) + slot["desc"]
    dek = AESGCM(kek).decrypt(slot["nonce"], slot["wrapped"], slot_aad)
    payload_aad = HEADER + e["wallet_id"] + b"\x01" + bytes([e["kind"]]) + struct.pack(">H", e["tag"]) + e["table"]
    return AESGCM(dek).decrypt(e["payload_nonce"], e["payload_ct"], payload_aad)


def open_prf(env, cred_id, prf):
    e = parse(env)
    for s in e["slots"]:
        if s["kind"] == 1 and s["cred_id"] == cred_id:
            return open_with_kek(e, s, prf_kek(prf, cred_id, s["rp_id"], e["wallet_id"]))
    raise ValueError("no slot for this credential")


def open_text(env, kind, text):
    e = parse(env)
    label = b"wallet-kek/password-kek" if kind == 2 else b"wallet-kek/recovery-kek"
    secret = normalize_password(text) if kind == 2 else normalize_answer(text)
    for s in e["slots"]:
        if s["kind"] == kind:
            kek = text_kek(label, secret, s["argon_salt"], s["m"], s["t"], s["p"], e["wallet_id"])
            return open_with_kek(e, s, kek)
    raise ValueError("no slot of this kind")


def kat_source():
    import os
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    src = open(os.path.join(here, "..", "kat.rs")).read()
    consts = dict(re.findall(r'const (KAT\w*): &str =\s*"([0-9a-f]+)";', src))
    return src, consts


def seq(start):
    return bytes((start + i) % 256 for i in range(32))


def check_kats():
    src, k = kat_source()
    wallet, prf, cred, rp = seq(0xA0), seq(0x00), b"kat-credential", b"wallet.example"
    results = []

    def check(name, got, expected):
        ok = got == expected
        results.append(ok)
        print(("ok  " if ok else "FAIL") + " " + name, file=sys.stderr)

    check("KAT-1 prf kek", prf_kek(prf, cred, rp, wallet).hex(), k["KAT1_KEK"])
    check("KAT-1b hmac-secret salt",
          hashlib.sha256(b"WebAuthn PRF\x00" + seq(0x40)).hexdigest(), k["KAT1_HMAC_SECRET_SALT"])
    check("KAT-2 open via PRF", open_prf(bytes.fromhex(k["KAT2"]), cred, prf).hex(), seq(0x01).hex())
    env3 = bytes.fromhex(k["KAT3"])
    check("KAT-3 open via PRF", open_prf(env3, cred, prf).hex(), seq(0x20).hex())
    for (inp, exp) in [("  Mr.   Whiskers\t", "mr. whiskers"), ("ＭＲ．　ＷＨＩＳＫＥＲＳ", "mr. whiskers"),
                       ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"), ("İstanbul", "i\u0307stanbul"), ("ﬁsh", "fish"), ("①②", "12")]:
        check("KAT-5 normalise %r" % inp, normalize_answer(inp).decode(), exp)
    if Argon2id is None:
        print("skip Argon2id KATs: this `cryptography` has no Argon2id", file=sys.stderr)
    else:
        salt16 = bytes(range(0x10, 0x20))
        check("KAT-4 password kek",
              text_kek(b"wallet-kek/password-kek", normalize_password("correct horse battery staple"),
                       salt16, 19456, 2, 1, wallet).hex(), k["KAT4_PASSWORD_KEK"])
        check("KAT-4 recovery kek",
              text_kek(b"wallet-kek/recovery-kek", normalize_answer(" Mr. Whiskers "),
                       salt16, 19456, 2, 1, wallet).hex(), k["KAT4_RECOVERY_KEK"])
        check("KAT-3 open via password", open_text(env3, 2, "correct horse battery staple").hex(), seq(0x20).hex())
        check("KAT-3 open via recovery answer", open_text(env3, 3, "mr.   WHISKERS").hex(), seq(0x20).hex())
    # Tampering: every bit flip of KAT-2 fails (parse error or AES-GCM tag failure).
    env2 = bytearray(bytes.fromhex(k["KAT2"]))
    opened = 0
    for i in range(len(env2) * 8):
        env2[i // 8] ^= 1 << (i % 8)
        try:
            open_prf(bytes(env2), cred, prf)
            opened += 1
        except Exception:
            pass
        env2[i // 8] ^= 1 << (i % 8)
    check("KAT-2 every bit flip fails", opened, 0)
    passed, failed = sum(results), len(results) - sum(results)
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


if __name__ == "__main__":
    if len(sys.argv) == 4:
        print(open_prf(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])).hex())
    else:
        sys.exit(0 if check_kats() else 1)
