/**
 * Process-wide lifecycle flag: once shutdown starts, readiness answers 503 so load balancers stop
 * sending work while in-flight requests and jobs finish.
 */
let shuttingDown = false;

export function markShuttingDown(): void {
  shuttingDown = true;
}

export function isShuttingDown(): boolean {
  return shuttingDown;
}
