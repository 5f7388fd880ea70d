import { createMemoryNotifier } from '../src/memory-notifier.js';
import { notifyContract } from './contract.js';

// Notifiers from createMemoryNotifier() share the process-wide bus, so two of them stand for two pods.
notifyContract('memory', {
  make: () => createMemoryNotifier(),
});
