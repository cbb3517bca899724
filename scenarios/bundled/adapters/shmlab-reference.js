// shmlab adapter for shmlab's own Node client, against the Go reference
// master (target master: reference): the client in the article's wire
// format (process.send, isSharedMemoryMessage, integer uuids) that
// shmlab's Node package carries. The Go master spawns the workers.
'use strict';

module.exports = require('shmlab/adapters/reference');
