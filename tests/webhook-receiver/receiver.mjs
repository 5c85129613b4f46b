// A webhook receiver for Beckon's tests. Every request is checked with the official Standard
// Webhooks library (the `standardwebhooks` package), not with our own code, so a test passes only
// if another implementation of the format accepts what Beckon sends. It also checks that the
// library refuses the same request tampered with and replayed late, so "verified" cannot come
// from a check that accepts everything.
//
// Started as `node receiver.mjs` with SECRETS (comma-separated `whsec_…`, may be empty). Serves
// webhooks on one port and a control API on another (both 127.0.0.1, port 0) and prints one line,
// `listening webhook=<port> control=<port>`, once both listen.
//
// Control API (JSON):
//   POST /mode     {"status":503,"retryAfter":2} | {"status":410} | {"status":302,"location":…}
//                  | {"delayMs":N} | {"body":"text"} | {"down":true|false}; optional "times":N
//                  (the next N requests, then 200 again). Answers once the mode is in effect.
//   POST /secrets  {"secrets":[…]} replaces the secrets.
//   GET  /received[?count=N&timeoutMs=T]  what was received, in order; with count, waits until
//                  N were received or T ms passed.
//   POST /reset    forgets what was received.
import http from "node:http";
import { Webhook } from "standardwebhooks";

const STALE_SECONDS = 10 * 60;
const MODE_KEYS = new Set(["status", "retryAfter", "location", "delayMs", "body", "times", "down"]);

// Parsed secrets, in the order given: { secret, webhook }. Throws on a secret the library refuses.
function parseSecrets(list) {
  if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) {
    throw new Error("secrets must be an array of strings");
  }
  return list
    .filter((s) => s.length > 0)
    .map((secret) => {
      try {
        return { secret, webhook: new Webhook(secret) };
      } catch (e) {
        throw new Error(`secret ${JSON.stringify(secret)} refused by standardwebhooks: ${e.message}`);
      }
    });
}

let secrets;
try {
  secrets = parseSecrets((process.env.SECRETS ?? "").split(",").map((s) => s.trim()));
} catch (e) {
  console.error(`webhook receiver: SECRETS: ${e.message}`);
  process.exit(1);
}

const DEFAULT_MODE = Object.freeze({ status: 200 });
let mode = DEFAULT_MODE;
let modeLeft = null; // requests the mode still applies to; null: until changed

const received = [];
// Resolved (and replaced) on every arrival, so waiters wake without polling.
let arrival = deferred();

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// Whether the library accepts this payload with these headers under this secret.
function accepts(webhook, payload, headers) {
  try {
    // jsonParse: false, so a signature is judged alone (the body is parsed below, separately).
    webhook.verify(payload, headers, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

// The body with one byte changed: an ASCII byte flipped to another ASCII byte, so the change
// survives the library's UTF-8 decoding; one byte appended if there is none.
function tampered(body) {
  const copy = Buffer.from(body);
  const i = copy.findIndex((b) => b < 0x80);
  if (i < 0) return Buffer.concat([copy, Buffer.from("x")]);
  copy[i] ^= 0x01;
  return copy;
}

function header(headers, name) {
  const value = headers[name];
  return typeof value === "string" ? value : null;
}

function record(req, body) {
  const headers = req.headers;
  let parsed = null;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    // Recorded as null: the test sees the body was not JSON.
  }
  const stale = {
    ...headers,
    "webhook-timestamp": String(Math.floor(Date.now() / 1000) - STALE_SECONDS),
  };
  const changed = tampered(body);
  const entry = {
    path: req.url,
    method: req.method,
    id: header(headers, "webhook-id"),
    timestamp: header(headers, "webhook-timestamp"),
    signature: header(headers, "webhook-signature"),
    type: parsed && typeof parsed === "object" && typeof parsed.type === "string" ? parsed.type : null,
    body: parsed,
    headers,
    verified: secrets.map(({ webhook }) => accepts(webhook, body, headers)),
    tamperedRejected: secrets.every(({ webhook }) => !accepts(webhook, changed, headers)),
    staleRejected: secrets.every(({ webhook }) => !accepts(webhook, body, stale)),
    receivedAt: Date.now(),
  };
  received.push(entry);
  const woken = arrival;
  arrival = deferred();
  woken.resolve();
}

// The mode for this request; counts it against "times".
function takeMode() {
  const current = mode;
  if (modeLeft !== null) {
    modeLeft -= 1;
    if (modeLeft <= 0) {
      mode = DEFAULT_MODE;
      modeLeft = null;
    }
  }
  return current;
}

async function onWebhook(req, res) {
  try {
    const body = await readBody(req);
    record(req, body);
    const m = takeMode();
    if (m.delayMs) await new Promise((r) => setTimeout(r, m.delayMs));
    const headers = { "content-type": "text/plain" };
    if (m.retryAfter !== undefined) headers["retry-after"] = String(m.retryAfter);
    if (m.location !== undefined) headers.location = m.location;
    if (!res.destroyed) res.writeHead(m.status ?? 200, headers).end(m.body ?? "");
  } catch (e) {
    console.error(`webhook receiver: ${e?.stack ?? e}`);
    if (!res.headersSent && !res.destroyed) res.writeHead(500).end(String(e?.message ?? e));
    else res.destroy();
  }
}

// --- the webhook listener, which can go down and come back on the same port -------------------
let webhookServer = null;
let webhookPort = 0;
const sockets = new Set();

function listenWebhooks(port) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(onWebhook);
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    server.on("error", (e) => {
      if (!server.listening) reject(e);
      else console.error(`webhook receiver: ${e.message}`);
    });
    server.listen(port, "127.0.0.1", () => {
      webhookServer = server;
      webhookPort = server.address().port;
      resolve();
    });
  });
}

function closeWebhooks() {
  const server = webhookServer;
  if (!server) return Promise.resolve();
  webhookServer = null;
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}

// --- the control API ----------------------------------------------------------------------------
function json(res, status, value) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

async function setMode(m) {
  if (m === null || typeof m !== "object" || Array.isArray(m)) throw new Error("mode must be an object");
  const unknown = Object.keys(m).filter((k) => !MODE_KEYS.has(k));
  if (unknown.length) throw new Error(`unknown mode keys: ${unknown.join(", ")}`);
  const { down, times, ...response } = m;
  for (const key of ["status", "retryAfter", "delayMs", "times"]) {
    const v = m[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new Error(`${key} must be a whole number`);
  }
  if (response.status !== undefined && (response.status < 100 || response.status > 599)) {
    throw new Error("status must be 100..599");
  }
  for (const key of ["location", "body"]) {
    if (m[key] !== undefined && typeof m[key] !== "string") throw new Error(`${key} must be a string`);
  }
  if (down !== undefined && typeof down !== "boolean") throw new Error("down must be true or false");
  if (Object.keys(response).length > 0 || times !== undefined) {
    mode = { status: 200, ...response };
    modeLeft = times ?? null;
  }
  if (down === true) await closeWebhooks();
  if (down === false && !webhookServer) await listenWebhooks(webhookPort);
}

async function waitForCount(count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (received.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer;
    const timeout = new Promise((r) => {
      timer = setTimeout(r, left);
    });
    await Promise.race([arrival.promise, timeout]);
    clearTimeout(timer);
  }
}

async function onControl(req, res) {
  try {
    const url = new URL(req.url, "http://control");
    const raw = await readBody(req);
    let input = null;
    if (raw.length > 0) {
      try {
        input = JSON.parse(raw.toString("utf8"));
      } catch {
        return json(res, 400, { error: "body is not JSON" });
      }
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === "POST /mode") {
      await setMode(input);
      return json(res, 200, { mode, times: modeLeft, down: webhookServer === null });
    }
    if (route === "POST /secrets") {
      secrets = parseSecrets(input?.secrets);
      return json(res, 200, { secrets: secrets.length });
    }
    if (route === "GET /received") {
      const count = Number(url.searchParams.get("count") ?? 0);
      const timeoutMs = Number(url.searchParams.get("timeoutMs") ?? 10000);
      if (!Number.isFinite(count) || !Number.isFinite(timeoutMs)) {
        return json(res, 400, { error: "count and timeoutMs must be numbers" });
      }
      await waitForCount(count, Math.min(timeoutMs, 10 * 60 * 1000));
      return json(res, 200, received);
    }
    if (route === "POST /reset") {
      received.length = 0;
      return json(res, 200, {});
    }
    return json(res, 404, { error: `no route ${route}` });
  } catch (e) {
    if (!res.headersSent && !res.destroyed) json(res, 400, { error: String(e?.message ?? e) });
  }
}

process.on("uncaughtException", (e) => console.error(`webhook receiver: ${e?.stack ?? e}`));
process.on("unhandledRejection", (e) => console.error(`webhook receiver: ${e?.stack ?? e}`));

const control = http.createServer(onControl);
await listenWebhooks(0);
await new Promise((resolve) => control.listen(0, "127.0.0.1", resolve));
console.log(`listening webhook=${webhookPort} control=${control.address().port}`);
