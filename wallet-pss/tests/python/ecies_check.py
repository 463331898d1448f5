"""Independent check of wallet-pss ECIES (SPEC.md section 2) and of the signed sealed reshare
dealing (SPEC.md section 5.4) from the spec alone.

Pure-Python curve arithmetic (test only, not constant time) plus the `cryptography` package's
HKDF and AES-GCM. Usage: python3 ecies_check.py  (recomputes the four known-answer ciphertexts
of SPEC.md 2.4 and checks they equal the frozen ones; then reads the two sealed dealings of
SPEC.md 5.5 from SPEC.md, recomputes the configuration hash, verifies the dealer's signature,
opens every ciphertext with the recipient's factor secret and binding, and checks each
sub-share against the dealer's commitments; exits non-zero on any failure).
"""
import hashlib, hmac, os, re
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

def seal(curve, q_secret, e_secret, session, epoch, recipient, pt, binding=b""):
    if curve == 1:
        mul, enc, gen = k_mul, k_enc, G
    else:
        mul, enc, gen = e_mul, e_enc, B
    Qp = mul(q_secret, gen); E = mul(e_secret, gen); Z = mul(e_secret, Qp)
    okm = hkdf(enc(E) + enc(Qp), enc(Z), b"wallet-pss/ecies/v1" + bytes([curve]), 44)
    header = bytes([1, 0x05, 0x01, curve])
    ctx = session + epoch.to_bytes(8, 'big') + recipient.to_bytes(2, 'big')
    aad = header + ctx + enc(E) + enc(Qp) + binding
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

# Bound ciphertexts (binding b1 x 32 appended to the AAD): only the tag differs.
EXPECT_SECP256K1_BOUND = ("010501015a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a0000000000000007"
                          "00030201b6e4065a5691c0d46de44c67b4d0165cad6a639e5038ffddf34e0ca1967bac0000002d49ac0caf2a"
                          "b05490d0660051c188274173ccc258822fde02979e9579f2aea12ddb023d290769b7a722ddae99e4")
EXPECT_ED25519_BOUND = ("010501025a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a0000000000000007"
                        "00036d9f39d81b15a3ff412e220451a6579942d804bf8eac1180c960f14c8e80c4d10000002d2908114baa34"
                        "7947598f65ef28a40dc7f477fc8f6e73b6fb365dcfe49fab527573eb7019eca71b7517ac625ae0")
for curve, q, e, expect in [(1, r1, e1, EXPECT_SECP256K1_BOUND), (2, r2, e2, EXPECT_ED25519_BOUND)]:
    got = seal(curve, q, e, sess, 7, 3, pt, binding=b"\xb1" * 32).hex()
    print("bound", curve, got)
    if got == expect: passed += 1
    else: failed += 1

# ---- sealed reshare dealing (SPEC.md 5.4 / 5.5) ----
def k_dec(b):
    assert len(b) == 33 and b[0] in (2, 3)
    x = int.from_bytes(b[1:], 'big'); y2 = (x * x * x + 7) % P
    y = pow(y2, (P + 1) // 4, P)
    assert y * y % P == y2, "not on secp256k1"
    if y & 1 != b[0] & 1: y = P - y
    return (x, y)

def e_dec(b):
    assert len(b) == 32
    v = int.from_bytes(b, 'little'); y = v & ((1 << 255) - 1)
    x = e_x(y, v >> 255)
    assert (-x * x + y * y - 1 - D * x * x * y * y) % Q == 0, "not on edwards25519"
    return (x, y)

CURVES = {
    1: dict(mul=k_mul, add=k_add, enc=k_enc, dec=k_dec, gen=G, order=N, plen=33, endian='big'),
    2: dict(mul=e_mul, add=e_add, enc=e_enc, dec=e_dec, gen=B, order=L, plen=32, endian='little'),
}

def transcript(protocol, version, curve, session):
    h = hashlib.sha512()
    h.update(b"wallet-transcript/v1" + len(protocol).to_bytes(4, 'big') + protocol
             + version.to_bytes(2, 'big') + bytes([curve]) + session)
    return h

def append(h, label, value):
    h.update(len(label).to_bytes(4, 'big') + label + len(value).to_bytes(8, 'big') + value)

def output64(h, label):
    t = h.copy(); append(t, b"output", label); return t.digest()

def u16(n): return n.to_bytes(2, 'big')

def check_dealing(curve, dealing_hex, config_hash_hex):
    c = CURVES[curve]; mul, add, enc, dec, n = c['mul'], c['add'], c['enc'], c['dec'], c['order']
    b = bytes.fromhex(dealing_hex); off = 0
    def take(k):
        nonlocal off
        v = b[off:off + k]; assert len(v) == k, "truncated"; off += k; return v
    assert take(4) == bytes([1, 0x05, 0x25, curve]), "header"
    session = take(32); config_hash = take(32); dealer = int.from_bytes(take(2), 'big')
    t = int.from_bytes(take(2), 'big'); F_enc = [take(c['plen']) for _ in range(t)]
    cts = []
    for _ in range(int.from_bytes(take(2), 'big')):
        j = int.from_bytes(take(2), 'big'); ct = take(int.from_bytes(take(4), 'big'))
        cts.append((j, ct))
    R_enc = take(c['plen']); z = int.from_bytes(take(32), c['endian'])
    assert off == len(b) and z < n
    # 5.1: the fixture's configuration, its hash.
    a0, a1 = 1001, 2002
    old = u16(2) + enc(mul(a0, c['gen'])) + enc(mul(a1, c['gen']))
    cfg = (old + u16(3) + u16(1) + u16(2) + u16(3) + (0).to_bytes(8, 'big') + u16(2) + u16(1) + u16(2)
           + u16(2) + u16(3) + u16(4) + u16(2) + b"\x00")
    h = transcript(b"wallet-pss/reshare-config", 1, curve, bytes(32)); append(h, b"config", cfg)
    ch = output64(h, b"config-hash")[:32]
    assert ch == config_hash and ch.hex() == config_hash_hex, "config hash"
    # 5.4: the signature under X = lambda_1 * Y_1 (lambda_1 over {1, 2} is 2, Y_1 = f(1) G).
    assert dealer == 1
    X = mul(2 * (a0 + a1) % n, c['gen'])
    Pt = transcript(b"wallet-pss/reshare-sealed", 1, curve, session)
    append(Pt, b"config", config_hash); append(Pt, b"dealer", u16(dealer))
    for f in F_enc: append(Pt, b"commitment", f)
    binding = output64(Pt, b"ecies-binding")[:32]
    Pc = Pt.copy()
    for j, ct in cts:
        append(Pc, b"recipient", u16(j)); append(Pc, b"ciphertext", ct)
    append(Pc, b"R", R_enc); append(Pc, b"X", enc(X))
    chal = int.from_bytes(output64(Pc, b"signature"), c['endian']) % n
    assert enc(mul(z, c['gen'])) == enc(add(dec(R_enc), mul(chal, X))), "signature"
    # 2.3 + 5.4: open each ciphertext (bound), check the sub-share against F.
    F = [dec(f) for f in F_enc]
    factors = {3: 3003, 4: 4004}
    for j, ct in cts:
        assert ct[:4] == bytes([1, 0x05, 0x01, curve])
        ctx = ct[4:46]
        assert ctx == session + (1).to_bytes(8, 'big') + u16(j), "context"
        E_enc = ct[46:46 + c['plen']]; rest = ct[46 + c['plen']:]
        sealed = rest[4:]; assert int.from_bytes(rest[:4], 'big') == len(sealed)
        q = factors[j]; Qp = mul(q, c['gen']); Z = mul(q, dec(E_enc))
        okm = hkdf(E_enc + enc(Qp), enc(Z), b"wallet-pss/ecies/v1" + bytes([curve]), 44)
        pt = AESGCM(okm[:32]).decrypt(okm[32:], sealed, ct[:4] + ctx + E_enc + enc(Qp) + binding)
        s = int.from_bytes(pt, c['endian']); assert len(pt) == 32 and s < n
        expect = F[0]
        for k in range(1, t): expect = add(expect, mul(pow(j, k, n), F[k]))
        assert enc(mul(s, c['gen'])) == enc(expect), "Feldman check"

spec = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "SPEC.md")).read()
section = spec[spec.index("### 5.5"):]
for curve, name in [(1, "secp256k1"), (2, "Ed25519")]:
    m = re.search(name + r": `config_hash = ([0-9a-f]{64})`\n```\n([0-9a-f\n]+)```", section)
    try:
        check_dealing(curve, m.group(2).replace("\n", ""), m.group(1))
        print("sealed dealing", name, "ok")
        passed += 1
    except Exception as ex:
        print("sealed dealing", name, "FAILED:", repr(ex))
        failed += 1

print(f"{passed} passed, {failed} failed")
raise SystemExit(1 if failed else 0)
