/** The queue's view of MTA-STS (mta-sts.ts): the policy that binds a delivery, if any (`enforce` only). */
import { MtaSts, type StsPolicy } from './mta-sts.js';

export interface EnforcedPolicy {
  policy: StsPolicy;
  /** Whether the policy names this MX host (RFC 8461 §4.1). */
  allows(mx: string): boolean;
}

/**
 * The `enforce` policy of `domain`, or null (no MTA-STS configured, no policy, `testing` or `none`: RFC 8461
 * §5.2 delivers as usual under those; TLS-RPT reports are not sent).
 */
export async function enforcedPolicy(
  sts: { policy(domain: string): Promise<StsPolicy | null> } | undefined,
  domain: string,
): Promise<EnforcedPolicy | null> {
  if (!sts) return null;
  const policy = await sts.policy(domain).catch(() => null);
  if (policy?.mode !== 'enforce') return null;
  return { policy, allows: (mx) => MtaSts.allows(policy, mx) };
}
