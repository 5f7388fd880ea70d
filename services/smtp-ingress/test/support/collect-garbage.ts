/**
 * Preloaded into the ingress child by memory.test.ts only (node --expose-gc --import this). V8 frees a
 * Buffer's memory only when it next collects, and it lets tens of megabytes of dead Buffers pile up
 * first; collecting often makes the process's peak RSS show what it really holds rather than how lazy
 * the collector was.
 */
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('collect-garbage.ts needs node --expose-gc');
setInterval(collect, 25).unref();
