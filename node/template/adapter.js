// shmlab adapter for YOUR-LIBRARY. shmlab loads this one file in the
// cluster primary and in every worker it forks (cluster.isPrimary tells
// which); your library runs exactly as in your application.
//
// Run it from a scenario file that names it (see node/README.md):
//   target: {node: {adapter: shmlab-adapter.js, packages: [your-library@1.2.3]}}
// then:     shmlab run your-scenario.yaml
'use strict';

module.exports = {
  // Shown in reports.
  name: 'YOUR-LIBRARY',

  // In the primary, before any worker is forked: start your library's
  // master side (the part that owns the store). May return a promise.
  master(shmlab) {
    // require('your-library');
  },

  // In each worker: return the client shmlab calls. Each method returns
  // a promise, or, if it does not return a thenable, takes a node-style
  // callback cb(err, value) as its last argument.
  //
  //   get(key)              -> the value; undefined or null when absent
  //   set(key, value)       -> anything (recorded with no value when undefined)
  //   delete(key)           -> true if the key was there, else false  (optional)
  //   cas(key, old, value)  -> true if it stored value; old undefined
  //                            means "only if absent"                  (optional)
  //   add(key, delta)       -> the new integer                         (optional)
  //   lock(key), unlock(key)-> resolve once held / released            (optional)
  //
  // Leave out what your library does not have: shmlab leaves those
  // operations out of the workload and says so. An error with
  // `definite: true` is recorded as surely not applied; any other error,
  // or no answer within the call timeout, as unknown.
  worker(shmlab) {
    // const lib = require('your-library');
    return {
      get: (key) => { throw new Error('write get(key) for your library'); },
      set: (key, value) => { throw new Error('write set(key, value) for your library'); },
      // delete: (key) => lib.remove(key),
      // add: (key, delta) => lib.incr(key, delta),
    };
  },

  // Optional: messages in your library's own format that a poison fault
  // sends into the master's channel after shmlab's known crashers (null,
  // unknown methods, __proto__ keys: faultinject.PoisonFrames), each as
  // process.send takes it. A master that dies of one is "crashed".
  // poison: [{ myLib: true, op: 'get' }],

  // Optional, in the primary once the workers are done: the final value
  // of each key, read from the library's own store: {key: value}, or a
  // Map. Without it, shmlab reads the keys through a worker.
  // finalRead(shmlab, keys) { return {}; },
};
