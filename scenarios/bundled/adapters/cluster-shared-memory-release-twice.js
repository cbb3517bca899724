// shmlab adapter for cluster-shared-memory@1.1.5 (npm) whose unlock releases twice: a
// user's code that releases a lock, then releases it again with the same id (a retried
// release, or a release in a finally after an explicit one), as cluster-shared-memory.js
// does once. By the second release the lock may be another worker's, under a new id: the
// second release names an id that holds nothing, which a master must refuse and ignore
// (the reference answers bad_request and keeps the lock where it is). A master that
// releases the lock whatever id is named lets two workers hold it at once, and increments
// under the lock lose updates, which the counter check sees. The reference answers the
// first release OK, always.
'use strict';

const LIB = 'cluster-shared-memory';

module.exports = {
  name: LIB,
  master() {
    require(LIB); // in the primary, the first require builds the Manager and listens
  },
  worker() {
    const shm = require(LIB);
    const lockIds = new Map(); // key -> the lock id this worker holds
    return {
      get: (key) => shm.get(key),
      set: (key, value) => shm.set(key, value),
      delete: (key) => shm.remove(key),
      lock: async (key) => {
        lockIds.set(key, await shm.getLock(key));
      },
      unlock: async (key) => {
        const id = lockIds.get(key);
        lockIds.delete(key);
        // Neither answer is checked: the increment's write is done by now, and an unlock
        // that threw would make it of unknown outcome, which the counter check forgives.
        await shm.releaseLock(key, id);
        await shm.releaseLock(key, id);
      },
    };
  },
  async finalRead(shmlab, keys) {
    const shm = require(LIB);
    const out = {};
    for (const key of keys) out[key] = await shm.get(key);
    return out;
  },
};
