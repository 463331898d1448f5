// Drives Debian's chromium (headless, DevTools protocol via puppeteer-core, no browser
// download) through the page's flows with a WebAuthn virtual authenticator, and writes every
// signature to SIGS for native verification (run.sh then runs `browser_peer verify SIGS`).
//
// usage: node driver.mjs URL SIGS BENCH_OUT
import puppeteer from "puppeteer-core";
import { writeFileSync } from "node:fs";
import { createHash } from "node:crypto";

const [url, sigsPath, benchPath] = process.argv.slice(2);
let passed = 0, failed = 0;
const sigs = [];
function check(name, ok, detail = "") {
  if (ok) passed++; else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  const cdp = await page.createCDPSession();
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", ctap2Version: "ctap2_1", transport: "internal",
      hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
      hasPrf: true, automaticPresenceSimulation: true,
    },
  });
  const open = async () => {
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => document.getElementById("status").textContent === "ready", { timeout: 30000 });
  };
  const call = (fn, ...args) => page.evaluate((fn, args) => window.app[fn](...args), fn, args);
  const sha256 = (s) => createHash("sha256").update(s).digest("hex");

  await open();
  const shape = await call("errorShape");
  check("errors are JS Error objects with the Rust message and kind",
    shape.thrown && shape.isError && shape.kind === "input" && shape.message.length > 0, JSON.stringify(shape));

  const a = await call("register", "alice-a");
  check("passkey A registered with the prf extension enabled", a.prfEnabled, a.id);
  const env = await call("createEnvelope", a.id);
  check("envelope created in wasm from A's PRF output and stored", env.envelopeLen > 0 && env.publicKey.length === 66, env.publicKey);

  const h1 = sha256("first signature, before the reload");
  const s1 = await call("unlockAndSign", h1);
  check("A opens the envelope and signs (same page)", !s1.error && s1.publicKey === env.publicKey, s1.error || "");
  if (!s1.error) sigs.push(`secp256k1 ${s1.publicKey} ${h1} ${s1.signature}`);

  await open(); // a reload: a new JS realm, only localStorage and the authenticator survive
  const h2 = sha256("second signature, after the reload");
  const s2 = await call("unlockAndSign", h2);
  check("after a reload A authenticates again: same PRF output", s2.prfDigest === s1.prfDigest, s2.prfDigest);
  check("after a reload the envelope opens and signs for the same key", !s2.error && s2.publicKey === env.publicKey, s2.error || "");
  if (!s2.error) sigs.push(`secp256k1 ${s2.publicKey} ${h2} ${s2.signature}`);

  const b = await call("register", "alice-b");
  const added = await call("addPasskey", a.id, b.id);
  check("second passkey B added (opened with A)", added.slots === 2, JSON.stringify(added));
  await open();
  const h3 = sha256("third signature, with passkey B");
  const s3 = await call("unlockAndSign", h3, b.id);
  check("B opens the envelope and signs for the same key", !s3.error && s3.credentialId === b.id && s3.publicKey === env.publicKey, s3.error || "");
  if (!s3.error) sigs.push(`secp256k1 ${s3.publicKey} ${h3} ${s3.signature}`);

  const c = await call("register", "mallory");
  const s4 = await call("unlockAndSign", sha256("must not be signed"), c.id);
  check("an unregistered passkey is refused (kind unwrap, no signature)", !!s4.error && s4.kind === "unwrap" && !s4.signature, `${s4.kind}: ${s4.error}`);

  // A hardened recovery answer (Argon2id + one evaluation by the peer's guess-limited OPRF
  // server), enrolled into A's envelope with passkey A.
  const answer = "Mr. Whiskers";
  const en = await call("enrolHardenedAnswer", a.id, "First pet's name?", answer);
  check("hardened recovery answer enrolled with the OPRF server (certified register, evaluate, reset)",
    en.slots.length === 1 && en.slots[0].kind === "recovery-answer" && en.slots[0].question === "First pet's name?"
      && en.passkeySlots === 2 && en.afterEvaluation === 9 && en.afterReset === 10,
    JSON.stringify(en));
  await open(); // the handles never outlive the page; the envelope does (localStorage)
  const wrong = await call("signWithAnswer", "Mr. Mittens", sha256("must not be signed either"));
  check("a wrong answer is refused (kind unwrap, no signature) and costs one server attempt",
    wrong.kind === "unwrap" && !wrong.signature && wrong.before === 10 && wrong.attemptsLeft === 9
      && wrong.afterEvaluation === 9 && wrong.afterFinish === 9 && wrong.consumed,
    JSON.stringify(wrong));
  const hh = sha256("signed through the hardened recovery answer");
  const right = await call("signWithAnswer", "  mr.   WHISKERS ", hh);
  check("the right answer (other case and spacing) opens the envelope and signs for the same key",
    !right.error && right.publicKey === env.publicKey && right.signature.length === 130 && right.afterEvaluation === 8,
    right.error || right.publicKey);
  check("after the signature the reset proof brings the server's counter back to the limit",
    right.afterFinish === 10 && right.consumed, JSON.stringify({ afterEvaluation: right.afterEvaluation, afterFinish: right.afterFinish }));
  if (!right.error) sigs.push(`secp256k1 ${right.publicKey} ${hh} ${right.signature}`);
  const hl = sha256("signed after the lock-out and the passkey reset");
  const lock = await call("lockOutAndResetWithPasskey", a.id, answer, hl);
  check("wrong answers lock the record; the right one is then refused uncounted; passkey A's reset unlocks it",
    lock.start === 10 && lock.wrongKinds.length === 1 && lock.wrongKinds[0] === "unwrap" && lock.locked === 0
      && /locked/i.test(lock.lockedRefusal) && lock.afterRefusal === 0 && lock.afterReset === 10
      && !lock.again.error && lock.again.publicKey === env.publicKey && lock.again.afterFinish === 10,
    JSON.stringify({ ...lock, again: lock.again.error || "signed" }));
  if (!lock.again.error) sigs.push(`secp256k1 ${lock.again.publicKey} ${hl} ${lock.again.signature}`);
  const refused = await call("hardenedRefusals", a.id, hh);
  check("a malformed OPRF response, a response for another record, slot 0 and a record-key certificate under another identity give structured errors",
    refused.malformed === "input" && refused.wrongRecord === "oprf" && refused.badSlot === "input" && refused.impostor === "oprf",
    JSON.stringify(refused));

  // ECDSA 2-of-2 with the native server over HTTP on 127.0.0.1.
  const kg = await call("ecdsaKeygen", a.id);
  check("ECDSA DKG 2-of-2 device (wasm) <-> server (native, state on disk)", kg.rounds > 0, `${kg.rounds} round trips, sealed state ${kg.stateLen} bytes`);
  const ps = await call("ecdsaPresign", a.id, "m/0/1");
  check("ECDSA presignature with the server (m/0/1)", ps.presignatures === 1, `${ps.rounds} round trips`);
  await open(); // the device's sealed state survives the reload
  const h5 = sha256("ecdsa device + server");
  const es = await call("ecdsaSign", a.id, h5);
  check("ECDSA online signature after a reload (device partial + server partial)", es.signature.length === 130, es.publicKey);
  check("ECDSA presignature reuse refused by the device state", es.reuse === "usage", es.reuse);
  sigs.push(`secp256k1 ${es.publicKey} ${h5} ${es.signature}`);

  const hs = sha256("shamir 2-of-3 in wasm");
  const ss = await call("sssFlow", a.id, hs, "shamir ed25519 in wasm");
  check("Shamir share set in wasm: device + auth sign on both curves, recovery gives the same key",
    ss.ecdsa.publicKey === ss.ethereumPublicKey && ss.eddsa.publicKey === ss.ed25519PublicKey && ss.recoveredSameKey && ss.mnemonicSealedLen > 0,
    ss.ethereumPublicKey);
  sigs.push(`secp256k1 ${ss.ecdsa.publicKey} ${hs} ${ss.ecdsa.signature}`);
  sigs.push(`ed25519 ${ss.eddsa.publicKey} ${Buffer.from("shamir ed25519 in wasm").toString("hex")} ${ss.eddsa.signature}`);

  const fmsg = "frost 2-of-3 signed in wasm";
  const fr = await call("frostFlow", fmsg);
  check("FROST signers 1 + 2 commit and sign in wasm (native coordinator aggregates)", fr.signature.length === 128, fr.publicKey);
  check("FROST nonce reuse refused by the signer state", fr.reuse === "usage", fr.reuse);
  sigs.push(`ed25519 ${fr.publicKey} ${Buffer.from(fmsg).toString("hex")} ${fr.signature}`);

  const stored = await call("storedKeys");
  check("localStorage holds only the envelope, salts, sealed state and public data",
    JSON.stringify(stored) === JSON.stringify(["ecdsaInfo", "ecdsaPackage", "ecdsaState", "envelope", "stateSalt"]), stored.join(","));

  const creds = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check("the virtual authenticator holds the three resident passkeys", creds.credentials.length === 3, `${creds.credentials.length}`);

  const isolated = await page.evaluate(() => self.crossOriginIsolated);
  check("the page is cross-origin isolated (fine timer resolution for the bench)", isolated === true);
  const bench = await call("bench");
  writeFileSync(benchPath, Object.entries(bench).map(([k, v]) => `wasm ${k} ${v.toFixed(4)}`).join("\n") + "\n");
  check("wasm bench ran", Object.values(bench).every((v) => v > 0), JSON.stringify(bench));
} catch (e) {
  check("driver", false, e.stack || String(e));
} finally {
  await browser.close();
}
writeFileSync(sigsPath, sigs.join("\n") + "\n");
console.log(`driver: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
