"""Independent check of the wallet-pss objects a device fetches from an untrusted store
(SPEC.md sections 6-8: wallet-key signatures, share bundles, metadata certificates, records,
keys and sealed records), rebuilt from the spec alone, and the sealed factor of section 9, opened
with wallet-kek's independent envelope reader.

Pure-Python curve arithmetic (test only, not constant time); the `cryptography` package's
AES-GCM, deterministic ECDSA (RFC 6979) and Ed25519 verification. Usage:
python3 store_objects_check.py  (rebuilds the known answers of SPEC.md 7.4 and 8.5 and checks
they equal the frozen ones; exits non-zero otherwise).
"""
import hashlib, hmac
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed, decode_dss_signature)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# ---- secp256k1 ----
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)

def k_add(a, b):
    if a is None: return b
    if b is None: return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0: return None
    if a == b: l = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else: l = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (l * l - a[0] - b[0]) % P
    return (x, (l * (a[0] - x) - a[1]) % P)

def k_mul(k, pt):
    r = None
    while k:
        if k & 1: r = k_add(r, pt)
        pt = k_add(pt, pt); k >>= 1
    return r

def k_enc(pt):
    return bytes([2 + (pt[1] & 1)]) + pt[0].to_bytes(32, 'big')

# ---- Ed25519 ----
Q = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, Q) % Q
By = 4 * pow(5, -1, Q) % Q
def e_x(y, sign):
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, Q) % Q
    x = pow(x2, (Q + 3) // 8, Q)
    if (x * x - x2) % Q: x = x * pow(2, (Q - 1) // 4, Q) % Q
    if x & 1 != sign: x = Q - x
    return x
B = (e_x(By, 0), By)
def e_add(a, b):
    x1, y1 = a; x2, y2 = b
    t = D * x1 * x2 * y1 * y2 % Q
    return ((x1 * y2 + x2 * y1) * pow(1 + t, -1, Q) % Q, (y1 * y2 + x1 * x2) * pow(1 - t, -1, Q) % Q)
def e_mul(k, pt):
    r = (0, 1)
    while k:
        if k & 1: r = e_add(r, pt)
        pt = e_add(pt, pt); k >>= 1
    return r
def e_enc(pt):
    return (pt[1] | ((pt[0] & 1) << 255)).to_bytes(32, 'little')

class Curve:
    def __init__(self, cid):
        self.id = cid
        if cid == 1:
            self.n, self.gen, self.mul, self.add, self.enc = N, G, k_mul, k_add, k_enc
            self.senc = lambda s: (s % N).to_bytes(32, 'big')
            self.wide = lambda b: int.from_bytes(b, 'big') % N
        else:
            self.n, self.gen, self.mul, self.add, self.enc = L, B, e_mul, e_add, e_enc
            self.senc = lambda s: (s % L).to_bytes(32, 'little')
            self.wide = lambda b: int.from_bytes(b, 'little') % L
    def pub(self, s):
        return self.enc(self.mul(s, self.gen))

def u16(v): return v.to_bytes(2, 'big')
def u32(v): return v.to_bytes(4, 'big')
def u64(v): return v.to_bytes(8, 'big')

# ---- wallet-types SPEC §5 transcript ----
class Transcript:
    def __init__(self, protocol, version, curve, session=bytes(32)):
        self.h = hashlib.sha512(b"wallet-transcript/v1" + u32(len(protocol)) + protocol
                                + u16(version) + bytes([curve]) + session)
    def append(self, label, value):
        self.h.update(u32(len(label)) + label + u64(len(value)) + value)
        return self
    def output64(self, label):
        h = self.h.copy()
        h.update(u32(6) + b"output" + u64(len(label)) + label)
        return h.digest()
    def output32(self, label):
        return self.output64(label)[:32]

def hkdf(salt, ikm, info, n):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return out[:n]

def ecies_seal(c, q_secret, e_secret, session, epoch, recipient, pt):
    Qp = c.mul(q_secret, c.gen); E = c.mul(e_secret, c.gen); Z = c.mul(e_secret, Qp)
    okm = hkdf(c.enc(E) + c.enc(Qp), c.enc(Z), b"wallet-pss/ecies/v1" + bytes([c.id]), 44)
    header = bytes([1, 0x05, 0x01, c.id])
    ctx = session + u64(epoch) + u16(recipient)
    ct = AESGCM(okm[:32]).encrypt(okm[32:], pt, header + ctx + c.enc(E) + c.enc(Qp))
    return header + ctx + c.enc(E) + u32(len(ct)) + ct

# ---- SPEC §6: the wallet-key signature on a 32-byte digest ----
def wallet_sign(c, y, digest):
    if c.id == 1:
        key = ec.derive_private_key(y, ec.SECP256K1())
        der = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        if s > N // 2: s = N - s          # low S
        sig = r.to_bytes(32, 'big') + s.to_bytes(32, 'big')
        pk = key.public_key()
        pk.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return sig
    a_enc = c.pub(y)
    r = c.wide(hashlib.sha512(b"wallet-pss/wallet-sig/ed25519-nonce/v1" + c.senc(y) + digest).digest())
    R = c.pub(r)
    k = c.wide(hashlib.sha512(R + a_enc + digest).digest())
    sig = R + c.senc(r + k * y)
    ed25519.Ed25519PublicKey.from_public_bytes(a_enc).verify(sig, digest)  # RFC 8032 verifier
    return sig

def commitments(c, scalars):
    return u16(len(scalars)) + b"".join(c.pub(s) for s in scalars)

# ---- SPEC §7: share bundle ----
def bundle(c):
    y, a1 = 0x1111, 0x2222
    prev, new, epoch = b"\xa1" * 16, b"\xb2" * 16, 4
    Y = c.pub(y)
    session = Transcript(b"wallet-pss/share-set", 2, c.id).append(b"public-key", Y) \
        .append(b"previous-set-id", prev).append(b"set-id", new).output32(b"session")
    body = prev + new + u64(epoch) + commitments(c, [y, a1]) + u16(2)
    for j, f, e in [(1, 0x3333, 0x5555), (2, 0x4444, 0x6666)]:
        ct = ecies_seal(c, f, e, session, epoch, j, c.senc(y + a1 * j))
        body += u16(j) + u32(len(ct)) + ct
    header = bytes([1, 0x05, 0x31, c.id])
    digest = Transcript(b"wallet-pss/share-bundle", 2, c.id) \
        .append(b"bundle", header + body).output32(b"digest")
    return header + body + wallet_sign(c, y, digest)

# ---- SPEC §8: metadata ----
def cert_digest(c, Y, X, generation):
    return Transcript(b"wallet-pss/metadata-cert", 1, c.id).append(b"wallet-key", Y) \
        .append(b"metadata-key", X).append(b"generation", u64(generation)).output32(b"digest")

def metadata(c):
    y, a1, x, gen, version = 0x1111, 0x2222, 0x7777, 3, 9
    Y, X = c.pub(y), c.pub(x)
    cd = cert_digest(c, Y, X, gen)
    cert = bytes([1, 0x05, 0x42, c.id]) + Y + X + u64(gen) + wallet_sign(c, y, cd)
    record = bytes([1, 0x05, 0x46, c.id]) + u64(version) + u64(4) + commitments(c, [y, a1]) \
        + b"\x01" + b"\xb2" * 16
    record += (b"\x01" + b"\xc3" * 32 + b"\xd4" * 32) if c.id == 1 else b"\x00"
    record += b"\x01" + b"\xe5" * 32  # the dealings hash (SPEC.md 8.2)
    record += u16(2) + u16(1) + c.pub(0x3333) + u16(2) + c.pub(0x4444)
    key = bytes([1, 0x05, 0x45, c.id]) + u64(gen) + c.senc(x)
    header = bytes([1, 0x05, 0x44, c.id])
    enc_key = hkdf(b"\x00" * 32, c.senc(x), b"wallet-pss/metadata/enc/v2" + bytes([c.id]), 32)
    nonce = b"\x0c" * 12
    ct = AESGCM(enc_key).encrypt(nonce, record, header + cd + u64(version))
    k = 0x8888
    R = c.pub(k)
    ch = c.wide(Transcript(b"wallet-pss/metadata-sig", 2, c.id).append(b"certificate", cd)
                .append(b"version", u64(version)).append(b"nonce", nonce)
                .append(b"ciphertext", ct).append(b"R", R).output64(b"c"))
    sealed = header + u32(len(cert)) + cert + u64(version) + nonce + u32(len(ct)) + ct + R \
        + c.senc(k + ch * x)
    return cert, record, key, sealed

EXPECT = {
    # SPEC.md 7.4 / 8.5: SHA-256 of the bundle and of the sealed record, the other objects whole.
    (1, "bundle"): "82d901db0db35dd627d749cd6c4cb412f2ff495c4228a166c51aefd544818478",
    (2, "bundle"): "afa7623c7df5cf7a64ef3a3b0544a20bb6bc1ea7d4af92c5918677e35bdf8e54",
}
import os, re
spec = open(os.path.join(os.path.dirname(__file__), "..", "..", "SPEC.md")).read()

def frozen(name, curve):
    m = re.search(r"<!-- kat %s %s -->\n```\n([0-9a-f\n]+)```" % (name, curve), spec)
    return m.group(1).replace("\n", "") if m else None

passed = failed = 0
def check(what, got, want):
    global passed, failed
    ok = got == want
    print(("ok  " if ok else "FAIL"), what, got[:64] + ("..." if len(got) > 64 else ""))
    if ok: passed += 1
    else: failed += 1

for cid, name in [(1, "secp256k1"), (2, "ed25519")]:
    c = Curve(cid)
    check(f"{name} bundle sha256", hashlib.sha256(bundle(c)).hexdigest(), EXPECT[(cid, "bundle")])
    check(f"{name} bundle sha256 (SPEC)", hashlib.sha256(bundle(c)).hexdigest(),
          frozen("bundle-sha256", name))
    cert, record, key, sealed = metadata(c)
    check(f"{name} certificate", cert.hex(), frozen("certificate", name))
    check(f"{name} record", record.hex(), frozen("record", name))
    check(f"{name} key", key.hex(), frozen("key", name))
    check(f"{name} sealed sha256", hashlib.sha256(sealed).hexdigest(), frozen("sealed-sha256", name))
# ---- SPEC §9: a factor key sealed in a wallet-kek envelope, opened with wallet-kek's own
# independent reader (wallet-kek/tests/python/open_envelope.py, written from wallet-kek/SPEC.md).
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "wallet-kek", "tests", "python"))
import open_envelope

for cid, name in [(1, "secp256k1"), (2, "ed25519")]:
    c = Curve(cid)
    env = bytes.fromhex(frozen("factor-envelope", name))
    parsed = open_envelope.parse(env)
    check(f"{name} sealed factor payload kind / tag", "%d %04x" % (parsed["kind"], parsed["tag"]), "4 0547")
    check(f"{name} sealed factor wallet id", parsed["wallet_id"].hex(), "a1" * 32)
    pt = open_envelope.open_prf(env, b"backup", b"\x7e" * 32)
    check(f"{name} sealed factor plaintext (SPEC 9.1)", pt.hex(), frozen("factor", name))
    check(f"{name} factor encoding", pt.hex(),
          (bytes([1, 0x05, 0x47, cid]) + c.senc(0x9999)).hex())
    f = int.from_bytes(pt[4:], "big" if cid == 1 else "little")
    check(f"{name} factor public key", c.pub(f).hex(), frozen("factor-public", name))

print(f"{passed} passed, {failed} failed")
raise SystemExit(1 if failed else 0)
