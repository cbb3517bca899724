// A Node.js cluster worker written in the style of the article's library
// (x6doooo/sharedmemory, its User class), for shm's interop test
// (node_test.go, TestNodeArticleWorker). No npm packages.
//
// Like the article's client, it numbers its calls Date.now() + '-' +
// counter (a string uuid), keeps its callbacks in a plain object keyed
// by uuid, sends get with "value": null, remove(key) as a set without a
// value, set({k: v}) as a set without a key, and plusOne(key) as its own
// method, and it issues calls without waiting for earlier ones. Unlike
// the article's, it hands the callback the whole reply (so the test sees
// errors too), and plusOne passes its callback where the article's
// passes it as the value (whose callback therefore never fires).
//
// It also checks what server.listen() does in a worker of the Go master
// (Node asks the primary for the socket with a NODE_CLUSTER queryServer
// message), and ends with cluster.worker.disconnect(), which waits for
// the primary to acknowledge it. It reports like worker.js: one final
// {"report": {...}} message.
'use strict';

const cluster = require('cluster');
const http = require('http');

const OP_TIMEOUT_MS = 5000; // one reply; the Go side bounds the whole run
const BURST = 100;

const unexpected = []; // replies nobody waited for
const report = {
  workerId: cluster.worker ? cluster.worker.id : null,
  isWorker: cluster.isWorker,
  rawJSON: false,
  results: [],
  unexpected,
  pendingAtEnd: -1,
};

function User() {
  this.counter = 0;
  this.callbacks = {};
  process.on('message', (data) => {
    if (!data || data.isSharedMemoryMessage !== true) {
      return;
    }
    const cb = this.callbacks[data.uuid];
    delete this.callbacks[data.uuid];
    if (typeof cb === 'function') {
      cb(data);
    } else {
      unexpected.push(data);
    }
  });
}

User.prototype.uuid = function () {
  this.counter = this.counter > 65535 ? 0 : this.counter + 1;
  return Date.now() + '-' + this.counter;
};

User.prototype.handle = function (method, key, value, cb) {
  const uuid = this.uuid();
  this.callbacks[uuid] = cb;
  process.send({ isSharedMemoryMessage: true, method, id: cluster.worker.id, uuid, key, value });
};

// set(key, value, cb) or set(object, cb).
User.prototype.set = function (...args) {
  if (args.length === 1 || (args.length === 2 && typeof args[1] === 'function')) {
    this.handle('set', undefined, args[0], args[1]);
    return;
  }
  this.handle('set', args[0], args[1], args[2]);
};

User.prototype.get = function (key, cb) {
  this.handle('get', key, null, cb);
};

User.prototype.remove = function (key, cb) {
  this.set(key, undefined, cb);
};

User.prototype.plusOne = function (key, cb) {
  this.handle('plusOne', key, undefined, cb);
};

User.prototype.pending = function () {
  return Object.keys(this.callbacks).length;
};

const user = new User();

// call runs user[method](...args, cb) and resolves with the reply.
function call(method, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${method} ${JSON.stringify(args)} in ${OP_TIMEOUT_MS}ms`)), OP_TIMEOUT_MS);
    user[method](...args, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

function describe(method, args) {
  const parts = [method];
  if (method === 'set' && args.length === 1) {
    parts.push(`value=${JSON.stringify(args[0])}`);
  } else {
    parts.push(`key=${JSON.stringify(args[0])}`);
    if (args.length > 1) {
      parts.push(`value=${JSON.stringify(args[1])}`);
    }
  }
  return parts.join(' ');
}

function record(op, reply) {
  const r = { op, uuid: reply.uuid, has: 'value' in reply };
  if (r.has) {
    r.value = reply.value;
  }
  if ('error' in reply) {
    r.error = reply.error;
  }
  report.results.push(r);
}

const script = [
  ['set', 'a', 'x'],
  ['get', 'a'],
  ['plusOne', 'hits'],
  ['plusOne', 'hits'],
  ['set', { b: 1, c: 'two', zero: 0, a: 'y' }],
  ['get', 'a'],
  ['get', 'c'],
  ['get', 'zero'],
  ['remove', 'a'],
  ['get', 'a'],
  ['remove', 'never'],
  ['plusOne', 'c'], // not an integer: an error, still answered to its uuid
  ['set', 'lonely'], // a set without a key needs an object
];

// burst sends BURST plusOne calls at once, as the article's callbacks
// allow, and records their answers sorted.
async function burst() {
  const replies = await Promise.all(Array.from({ length: BURST }, () => call('plusOne', 'burst')));
  const values = replies.map((r) => r.value).sort((x, y) => x - y);
  const uuids = new Set(replies.map((r) => r.uuid));
  report.results.push({ op: `plusOne key="burst" x${BURST}`, uuid: `${uuids.size} distinct`, has: true, value: values });
  record('get key="burst"', await call('get', 'burst'));
}

// listen reports how server.listen() ends: an 'error' or 'listening'.
function listen(options) {
  return new Promise((resolve) => {
    const server = http.createServer();
    server.once('error', (e) => resolve({ code: e.code, syscall: e.syscall }));
    server.listen(options, () => server.close(() => resolve({ listening: true })));
  });
}

async function run() {
  for (const [method, ...args] of script) {
    record(describe(method, args), await call(method, ...args));
  }
  await burst();
  for (const [name, options] of [['listen port=0', { port: 0 }], ['listen port=0 exclusive', { port: 0, host: '127.0.0.1', exclusive: true }]]) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ hung: true }), OP_TIMEOUT_MS);
    });
    report.results.push({ op: name, has: true, value: await Promise.race([listen(options), timeout]) });
    clearTimeout(timer);
  }
}

function finish(err) {
  if (err) {
    report.failure = String(err && err.stack ? err.stack : err);
  }
  report.pendingAtEnd = user.pending();
  process.send({ report }, () => cluster.worker.disconnect());
}

run().then(() => finish(null), finish);
