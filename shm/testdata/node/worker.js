// A Node.js cluster-style worker for shm's interop test (node_test.go).
//
// It speaks to the Go master with nothing but process.send and
// process.on('message'): no shmlab code, no npm packages (it reads its
// worker id from the core cluster module, as a cluster worker does). It
// runs a fixed script of operations one after another, matching each reply
// to its request by uuid through a callback table, then sends one final
// message that is not a shared-memory message, {"report": {...}}, and
// disconnects, which ends the process with status 0.
//
// Integers beyond 2^53 cannot be written by JSON.stringify, so the ops that
// send one use JSON.rawJSON, which Node 20 has only under
// --harmony-json-parse-with-source; without it they are left out and the
// report says so ("rawJSON": false).
'use strict';

const OP_TIMEOUT_MS = 5000; // one reply; the Go side bounds the whole run
const BIG = '123456789012345678901'; // 21 digits, beyond int64 and 2^53
// Node's cluster setup reads NODE_UNIQUE_ID and deletes it from the
// environment before the script runs; cluster.worker keeps the id.
const cluster = require('cluster');
const workerId = cluster.worker ? cluster.worker.id : null;
const hasRawJSON = typeof JSON.rawJSON === 'function';

// The scripts, chosen by the first argument. Each entry is a request (its
// fields go on the wire as they are, over the defaults), {sleep: ms}, or
// {raw: message} for a message sent as it is, whose reply is the next one
// that matches no pending uuid.
const scripts = { interop, 'error-uuids': errorUUIDs };

function interop() {
  const ops = [
    { method: 'get', key: 'nothing' },
    { method: 'set', key: 'a', value: 'x' },
    { method: 'get', key: 'a' },
    { method: 'add', key: 'n' },
    { method: 'add', key: 'n', delta: 41 },
    { method: 'add', key: 'n', delta: -2 },
    { method: 'add', key: 'a' }, // not an integer
    // Falsy values are values, not absence.
    { method: 'set', key: 'zero', value: 0 },
    { method: 'get', key: 'zero' },
    { method: 'set', key: 'empty', value: '' },
    { method: 'get', key: 'empty' },
    { method: 'set', key: 'false', value: false },
    { method: 'get', key: 'false' },
    { method: 'set', key: 'null', value: null },
    { method: 'get', key: 'null' },
    // Odd keys are plain keys.
    { method: 'set', key: '__proto__', value: { polluted: true } },
    { method: 'get', key: '__proto__' },
    { method: 'set', key: '', value: 'empty key' },
    { method: 'get', key: '' },
    { method: 'set', key: '0', value: 'zero key' },
    { method: 'get', key: '0' },
    { method: 'set', key: 'proto-value', value: JSON.parse('{"__proto__":{"x":1}}') },
    { method: 'get', key: 'proto-value' },
    { method: 'set', key: 'é😀\n\u0000\u2028"\\', value: 'escapes' },
    { method: 'get', key: 'é😀\n\u0000\u2028"\\' },
    // A lone surrogate is a legal JavaScript string and legal JSON text.
    { method: 'set', key: 'lone', value: 'x\ud800y' },
    { method: 'get', key: 'lone' },
    // delete and cas.
    { method: 'set', key: 'doomed', value: 1 },
    { method: 'delete', key: 'doomed' },
    { method: 'delete', key: 'doomed' },
    { method: 'get', key: 'doomed' },
    { method: 'cas', key: 'c', value: 1 }, // no old: expect missing
    { method: 'cas', key: 'c', value: 2 }, // now present
    { method: 'cas', key: 'c', old: 9, value: 3 },
    { method: 'cas', key: 'c', old: 1, value: 3 },
    { method: 'cas', key: 'null', old: null, value: 'was null' },
    // TTL: a long one stays, a 1ms one is gone after a pause.
    { method: 'set', key: 'ttl-long', value: 'stays', ttl: 600000 },
    { method: 'set', key: 'ttl-short', value: 'goes', ttl: 1 },
    { sleep: 20 },
    { method: 'get', key: 'ttl-short' },
    // The master preset "big" to BIG: JavaScript can only read it rounded,
    // and a cas that expects the rounded number must not match.
    { method: 'get', key: 'big' },
    { method: 'cas', key: 'big', old: Number(BIG), value: 'clobbered' },
  ];
  if (hasRawJSON) {
    ops.push(
      { method: 'cas', key: 'big', old: JSON.rawJSON(BIG), value: JSON.rawJSON('123456789012345678902') },
      { method: 'set', key: 'big-from-node', value: JSON.rawJSON(BIG) },
    );
  }
  ops.push(
    // Bad requests get a definite error, and the master keeps serving.
    { method: 'frobnicate', key: 'a' },
    { method: 'set', key: 42, value: 1 },
    { method: 'set', key: 'bad-ttl', value: 1, ttl: 'soon' },
    { method: 'add', key: 'n', delta: '1' },
    { method: 'set', key: 'no-value' },
    { method: 'get', key: 'a', id: null }, // what id: NaN becomes
    // Messages that are not requests at all get an error without a uuid.
    { raw: null },
    { raw: 'just a string' },
    { raw: [1, 2] },
    { raw: { isSharedMemoryMessage: true } }, // neither a request nor a reply
    { raw: { isSharedMemoryMessage: true, method: 'get', key: 'a' } }, // no uuid
    { method: 'get', key: 'n' },
    { method: 'len' },
    { method: 'keys' },
  );
  return ops;
}

// errorUUIDs sends requests the master must refuse, each with a uuid that
// either is usable (the error reply must carry it back, or the caller's
// callback never fires) or is not (the reply must not claim a uuid the
// worker never sent, which could be another pending call's), then
// requests whose uuid is a string or a number that is not a small
// integer, which are answered with it as sent.
function errorUUIDs() {
  return [
    { raw: { isSharedMemoryMessage: true, method: 'set', id: workerId, uuid: 1000, key: '\ud800', value: 1 } },
    { raw: { isSharedMemoryMessage: true, method: 'get', id: workerId, uuid: 1001, key: 'a\udc00' } },
    // The same with the key before the uuid: an object built in another order.
    { raw: { isSharedMemoryMessage: true, key: '\ud800', method: 'set', uuid: 1002, value: 1 } },
    { raw: { key: 'a\udc00', isSharedMemoryMessage: true, method: 'get', uuid: 1003 } },
    { raw: { isSharedMemoryMessage: true, method: 'get', id: workerId, uuid: '7', key: 'a' } },
    { raw: { isSharedMemoryMessage: true, method: 'get', id: workerId, uuid: -1, key: 'a' } },
    { raw: { isSharedMemoryMessage: true, method: 'get', id: workerId, uuid: 1.5, key: 'a' } },
    { raw: { isSharedMemoryMessage: true, method: 'get', id: workerId, uuid: [7], key: 'a' } },
    { method: 'get', key: 'a' }, // the master still serves
  ];
}

let uuid = 0;
const callbacks = new Map(); // uuid -> function(reply)
const waitingRaw = []; // resolvers for replies without a known uuid
const unexpected = []; // replies nobody waited for
const report = { workerId, isWorker: cluster.isWorker, rawJSON: hasRawJSON, results: [], unexpected, pendingAtEnd: -1 };

process.on('message', (msg) => {
  if (msg === null || typeof msg !== 'object' || msg.isSharedMemoryMessage !== true) {
    unexpected.push({ foreign: msg });
    return;
  }
  const cb = callbacks.get(msg.uuid);
  if (cb !== undefined) {
    callbacks.delete(msg.uuid);
    cb(msg);
  } else if (waitingRaw.length > 0) {
    waitingRaw.shift()(msg);
  } else {
    unexpected.push(msg);
  }
});

function withTimeout(what, register) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${what} in ${OP_TIMEOUT_MS}ms`)), OP_TIMEOUT_MS);
    register((reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

function request(op) {
  uuid++;
  const id = uuid;
  const msg = Object.assign({ isSharedMemoryMessage: true, method: op.method, id: workerId, uuid: id }, op);
  return withTimeout(`${op.method} uuid ${id}`, (done) => {
    callbacks.set(id, done);
    process.send(msg);
  });
}

function sendRaw(message) {
  return withTimeout(`raw ${JSON.stringify(message)}`, (done) => {
    waitingRaw.push(done);
    process.send(message);
  });
}

// describe names an op for the report, in a form the Go test spells out.
function describe(op) {
  if (op.raw !== undefined) {
    return `raw ${JSON.stringify(op.raw)}`;
  }
  const parts = [op.method];
  for (const name of ['id', 'key', 'old', 'value', 'ttl', 'delta']) {
    if (Object.prototype.hasOwnProperty.call(op, name)) {
      parts.push(`${name}=${JSON.stringify(op[name])}`);
    }
  }
  return parts.join(' ');
}

function record(op, reply) {
  const r = { op: describe(op), has: 'value' in reply };
  if ('uuid' in reply) {
    r.uuid = reply.uuid;
  }
  if (r.has) {
    r.value = reply.value;
  }
  if ('error' in reply) {
    r.error = reply.error;
  }
  report.results.push(r);
}

async function run() {
  const script = scripts[process.argv[2] || 'interop'];
  if (script === undefined) {
    throw new Error(`no script ${JSON.stringify(process.argv[2])}`);
  }
  for (const op of script()) {
    if (op.sleep !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, op.sleep));
      continue;
    }
    record(op, op.raw !== undefined ? await sendRaw(op.raw) : await request(op));
  }
}

function finish(err) {
  if (err) {
    report.failure = String(err && err.stack ? err.stack : err);
  }
  report.pendingAtEnd = callbacks.size + waitingRaw.length;
  process.send({ report }, () => process.disconnect());
}

run().then(() => finish(null), finish);
