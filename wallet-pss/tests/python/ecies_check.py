"""Independent check of wallet-pss ECIES (SPEC.md section 2) from the spec alone.

Pure-Python curve arithmetic (test only, not constant time) plus the `cryptography` package's
HKDF and AES-GCM. Usage: python3 ecies_check.py  (recomputes the two known-answer ciphertexts of SPEC.md 2.4 and
checks they equal the frozen ones; exits non-zero otherwise).
"""
import hashlib, hmac
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

def hkdf(salt, ikm, info, n):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return out[:n]

def seal(curve, q_secret, e_secret, session, epoch, recipient, pt):
    if curve == 1:
        mul, enc, gen = k_mul, k_enc, G
    else:
        mul, enc, gen = e_mul, e_enc, B
    Qp = mul(q_secret, gen); E = mul(e_secret, gen); Z = mul(e_secret, Qp)
    okm = hkdf(enc(E) + enc(Qp), enc(Z), b"wallet-pss/ecies/v1" + bytes([curve]), 44)
    header = bytes([1, 0x05, 0x01, curve])
    ctx = session + epoch.to_bytes(8, 'big') + recipient.to_bytes(2, 'big')
    aad = header + ctx + enc(E) + enc(Qp)
    ct = AESGCM(okm[:32]).encrypt(okm[32:], pt, aad)
    return header + ctx + enc(E) + len(ct).to_bytes(4, 'big') + ct

pt = b"wallet-pss ecies known answer"
sess = b"\x5a" * 32
# secp256k1 scalars are big-endian: 0x01 00..00 11 ; 0x02 00..00 22
r1 = int.from_bytes(bytes([1]) + bytes(30) + bytes([0x11]), 'big')
e1 = int.from_bytes(bytes([2]) + bytes(30) + bytes([0x22]), 'big')
EXPECT_SECP256K1 = ("010501015a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a0000000000000007"
                    "00030201b6e4065a5691c0d46de44c67b4d0165cad6a639e5038ffddf34e0ca1967bac0000002d49ac0caf2a"
                    "b05490d0660051c188274173ccc258822fde02979e9579f2b46e7789982623a5b3ba63f6b2594f49")
EXPECT_ED25519 = ("010501025a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a0000000000000007"
                  "00036d9f39d81b15a3ff412e220451a6579942d804bf8eac1180c960f14c8e80c4d10000002d2908114baa34"
                  "7947598f65ef28a40dc7f477fc8f6e73b6fb365dcfe49fb3e260ccfd74cf342fbff88ac0ab7908")
passed = failed = 0
got = seal(1, r1, e1, sess, 7, 3, pt).hex()
print("secp256k1", got)
if got == EXPECT_SECP256K1: passed += 1
else: failed += 1
# Ed25519 scalars are little-endian: bytes 11 00..00 01 ; 22 00..00 02
r2 = int.from_bytes(bytes([0x11]) + bytes(30) + bytes([1]), 'little')
e2 = int.from_bytes(bytes([0x22]) + bytes(30) + bytes([2]), 'little')
got = seal(2, r2, e2, sess, 7, 3, pt).hex()
print("ed25519", got)
if got == EXPECT_ED25519: passed += 1
else: failed += 1
print(f"{passed} passed, {failed} failed")
raise SystemExit(1 if failed else 0)
