/**
 * What the MX and submission listeners tell a traffic observer (the appliance's per-domain statistics):
 * one call per accepted message and one per refused RCPT. Observers count; they never block or fail a
 * transaction (a throwing observer is ignored).
 */
export interface AcceptedTraffic {
  /** The envelope sender ('' for the null reverse-path). */
  sender: string;
  /** True when the client authenticated (submission): the sender is one of its own addresses. */
  authenticated: boolean;
  /** Message size in bytes as received (before the trace header). */
  bytes: number;
  /** Every distinct destination: `local` when it went into a mailbox of this region. */
  recipients: Array<{ address: string; local: boolean }>;
}

export interface TrafficObserver {
  accepted(message: AcceptedTraffic): void;
  /** A refused RCPT (any reason) for `recipient`. */
  refused(recipient: string): void;
}

/** Calls `fn`, ignoring an observer's failure: counting never fails a transaction. */
export function observe(fn: () => void): void {
  try {
    fn();
  } catch {
    // the observer's fault is its own
  }
}

/** Reports an accepted message (inbound.ts): `destinations` as resolved at RCPT time. */
export function reportAccepted(
  traffic: TrafficObserver,
  m: {
    sender: string;
    authenticated: boolean;
    stream: { byteLength?: number };
    destinations: Array<{ dest: { kind: string; address: string } }>;
  },
): void {
  observe(() =>
    traffic.accepted({
      sender: m.sender,
      authenticated: m.authenticated,
      bytes: Number(m.stream.byteLength ?? 0),
      recipients: m.destinations.map((d) => ({ address: d.dest.address, local: d.dest.kind === 'local' })),
    }),
  );
}
