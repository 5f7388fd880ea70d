/**
 * One fault a test or the fault run (make test-faults) turns on and off: inject() returns once the
 * fault is in place (the backend is down, the proxy stalls, the disk is full), heal() once it is
 * gone again (the backend answers). A fault may be injected again after it healed.
 */
export interface Fault {
  name: string;
  inject(): Promise<void>;
  heal(): Promise<void>;
}
