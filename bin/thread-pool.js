// Sizes libuv's thread pool, which argon2 hashes on. Each thread that has hashed keeps its 19 MiB block
// (glibc leaves it in that thread's arena), so threads beyond the cores add memory and no speed.
const { availableParallelism } = require('node:os');

/** Returns the pool size to use when UV_THREADPOOL_SIZE is unset: one thread per core, and at least two. */
function defaultThreadPoolSize() {
  return Math.max(2, availableParallelism());
}

/**
 * Sets UV_THREADPOOL_SIZE unless the environment already does. It counts only if it runs before anything
 * starts the pool, which is why the entry points that call it are CommonJS: Node's ESM loader reads files on
 * the pool, and libuv reads the size once, when the pool starts.
 */
function sizeThreadPool(environment = process.env) {
  if (!environment.UV_THREADPOOL_SIZE) environment.UV_THREADPOOL_SIZE = String(defaultThreadPoolSize());
  return Number(environment.UV_THREADPOOL_SIZE);
}

module.exports = { defaultThreadPoolSize, sizeThreadPool };
