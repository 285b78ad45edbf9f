/**
 * Job: the attachment gateway's expired links go, then the files no link points at any more (issue 15;
 * packages/gateway's `GatewayStore.cleanup`). Hourly: an expiry is a date, not a deadline to the minute;
 * until the job runs, an expired link already answers 404.
 */
import type { CleanupResult } from '@delegato/gateway';
import type { JobSpec } from './scheduler.js';

export const GATEWAY_CLEANUP_SCHEDULE = '23 * * * *';

export function gatewayCleanupJob(gateway: { cleanup(): Promise<CleanupResult> }): JobSpec {
  return { name: 'gateway-cleanup', schedule: GATEWAY_CLEANUP_SCHEDULE, run: () => gateway.cleanup() };
}
