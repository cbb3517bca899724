// shmlab adapter for shmlab's own Go master (target master: reference).
// The worker side is a client of our own in the article's wire format:
// process.send and process.on('message'), isSharedMemoryMessage, a
// uuid per request (an integer, which every version of the Go master
// echoes). There is no master hook: shmlab's Go master spawned this
// worker with the channel on fd 3 (NODE_CHANNEL_FD=3).
'use strict';

function client() {
  const pending = new Map(); // uuid -> callback
  let next = 0;
  const id = Number(process.env.SHMLAB_WORKER_ID || process.env.NODE_UNIQUE_ID || 0);
  process.on('message', (msg) => {
    if (!msg || msg.isSharedMemoryMessage !== true) return;
    const cb = pending.get(msg.uuid);
    if (!cb) return; // a duplicate or a reply of an abandoned call
    pending.delete(msg.uuid);
    if (msg.error) {
      const err = new Error(msg.error.message || msg.error.code);
      err.code = msg.error.code;
      err.definite = msg.error.definite === true;
      cb(err);
      return;
    }
    cb(null, msg.value);
  });
  function call(method, fields) {
    return new Promise((resolve, reject) => {
      const uuid = ++next;
      pending.set(uuid, (err, v) => (err ? reject(err) : resolve(v)));
      process.send(Object.assign({ isSharedMemoryMessage: true, method, id, uuid }, fields));
    });
  }
  return {
    get: (key) => call('get', { key }),
    set: (key, value) => call('set', { key, value }),
    delete: (key) => call('delete', { key }),
    cas: (key, old, value) => call('cas', old === undefined ? { key, value } : { key, old, value }),
    add: (key, delta) => call('add', { key, delta }),
  };
}

module.exports = {
  name: 'shmlab reference (Go master, Node client)',
  worker: client,
};
