// The worker side of the npm package cluster-shared-memory (1.1.5),
// loaded from the folder given as the first argument, against the Go
// master, for shm's interop test (node_test.go, TestNodeClusterSharedMemory).
//
// The package numbers its calls with uuid v4 strings and hands each
// callback (or promise) only the reply's value, ignoring any error. So
// besides what each call resolves to, this script records every
// shared-memory message the master sent, to show the test what came back
// on the wire. It reports like worker.js: one final {"report": {...}}.
'use strict';

const path = require('path');
const cluster = require('cluster');

const OP_TIMEOUT_MS = 5000; // one call; the Go side bounds the whole run
const MUTEX = 20;

const wire = []; // the shared-memory messages the master sent, in order
process.on('message', (msg) => {
  if (msg && msg.isSharedMemoryMessage === true) {
    wire.push(msg);
  }
});
const shm = require(path.join(process.argv[2], 'node_modules', 'cluster-shared-memory'));

const report = {
  workerId: cluster.worker ? cluster.worker.id : null,
  isWorker: cluster.isWorker,
  rawJSON: false,
  results: [],
  unexpected: [],
  pendingAtEnd: 0,
};

// call runs one of the package's promise-returning methods and records
// what it resolved to and the reply that came back for it on the wire.
async function call(op, f) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to ${op} in ${OP_TIMEOUT_MS}ms`)), OP_TIMEOUT_MS);
  });
  const before = wire.length;
  const resolved = await Promise.race([f(), timeout]);
  clearTimeout(timer);
  const reply = wire[before] || {}; // for mutex: the first of many
  const r = { op, uuid: reply.uuid, has: resolved !== undefined };
  if (r.has) {
    r.value = resolved;
  }
  if ('error' in reply) {
    r.error = reply.error;
  }
  report.results.push(r);
}

async function run() {
  await call('set key="a" value={"n":1}', () => shm.set('a', { n: 1 }));
  await call('get key="a"', () => shm.get('a'));
  await call('set key="zero" value=0', () => shm.set('zero', 0));
  await call('get key="zero"', () => shm.get('zero'));
  await call('remove key="a"', () => shm.remove('a'));
  await call('get key="a"', () => shm.get('a'));
  let lockId;
  await call('getLock key="l"', async () => {
    lockId = await shm.getLock('l');
    return lockId;
  });
  await call('releaseLock key="l" wrong id', () => shm.releaseLock('l', 'some-lock-id'));
  await call('releaseLock key="l"', () => shm.releaseLock('l', lockId));
  await call('getLRU key="a"', () => shm.getLRU('a'));
  // MUTEX increments at once, each a get then a set under mutex(): with
  // the lock served, none is lost.
  await call(`mutex key="ctr" x${MUTEX}`, async () => {
    const inc = () => shm.mutex('ctr', async () => {
      const v = await shm.get('ctr');
      await shm.set('ctr', (v || 0) + 1);
    });
    await Promise.all(Array.from({ length: MUTEX }, inc));
    return shm.get('ctr');
  });
}

function finish(err) {
  if (err) {
    report.failure = String(err && err.stack ? err.stack : err);
  }
  process.send({ report }, () => process.disconnect());
}

run().then(() => finish(null), finish);
