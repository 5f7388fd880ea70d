/**
 * Import first in a service's main.ts (before anything that touches the file system): libuv reads
 * UV_THREADPOOL_SIZE once, when its thread pool first starts, and every fs call (and dns.lookup)
 * waits for one of its threads. Node's default of 4 lets only four fsyncs be in flight at a time:
 * the mda storing a batch of small bodies (one file, one fsync each), smtp-ingress storing bigger
 * ones, queue behind each other on four threads while the disk could take them together (the
 * journal commits concurrent fsyncs at once). Measured on bench-vs-postfix: 93 -> 172 msgs/s at 20
 * sessions with 16 threads, in one run (docs/performance.md). An operator's own value wins.
 */
process.env.UV_THREADPOOL_SIZE ??= '16';

export {};
