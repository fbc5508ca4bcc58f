/**
 * Preloaded (`node -r`) into a process that another one runs as its child (the gateway of
 * the crash-recovery test and of `npm run bench`): once the parent is gone the child exits
 * too, so a parent that dies without cleaning up (killed, or a crashed test run) leaves no
 * gateway behind.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
