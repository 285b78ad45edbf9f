/**
 * The federation listener (`port.federation`, decision 0008): the MX pipeline of inbound.ts with the
 * channel rules of mail between regions.
 *
 * - TLS from the first byte; a client certificate is required and must chain to the federation CA (the only
 *   CA): no certificate, another CA's, or clear text, and the handshake fails before any greeting.
 * - The peer region is read from the verified certificate (`<region>.federation.invalid`, via `regionOf`),
 *   never from EHLO, and named in `Received:` (`from north (region north, federation certificate
 *   verified [addr])`, `with ESMTPS`).
 * - Only recipients of domains homed in this region are accepted (550 5.7.1 otherwise): a peer routes here
 *   only what this region delivers, so nothing is relayed further (no loops between regions, no open relay).
 *   The normal recipient policy applies after that (550 5.1.1, 5.1.4, 5.2.1, 452 4.2.2 ...), and the 250
 *   after DATA comes only once the copies are durable, as on the MX.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { logEventAt } from '@delegato/observability';
import { type ChannelPeer, type InboundChannel, MxServer, type MxServerOptions } from './inbound.js';
import { replyError } from './replies.js';

export interface FederationInboundOptions
  extends Omit<MxServerOptions, 'channel' | 'submission' | 'implicitTls' | 'internalNetworks' | 'tls'> {
  /** This region's certificate and key (presented to peers) and the federation CA (the only trust anchor). */
  tls: { key: string; cert: string; ca: string };
  /** The region a verified peer certificate names (`regionOfPeerCertificate` of @delegato/federation). */
  regionOf(cert: PeerCertificate): string | undefined;
  /** Whether a verified certificate of `region` is revoked (decision 0013): 554 5.7.0 instead of 220. */
  revoked?(region: string, cert: PeerCertificate): boolean;
  /** A handshake refused: clear text, no client certificate, one of another CA (peer address, reason). */
  onRefused?(refusal: { peer: string | undefined; reason: string; detail: string }): void;
}

/** The Received comment of a verified peer region. */
export function federationPeer(region: string): ChannelPeer {
  return { name: region, comment: `region ${region}, federation certificate verified` };
}

/** A short reason for a refused TLS client, from OpenSSL's error or the socket's verification result. */
export function handshakeRefusal(err: Error & { code?: string; library?: string; reason?: string }): string {
  const text = `${err.code ?? ''} ${err.reason ?? ''} ${err.message}`;
  if (/HTTP_REQUEST|WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|record layer/i.test(text))
    return 'clear text';
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|certificate required|did not return a certificate/i.test(text))
    return 'no client certificate';
  if (
    /UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|SELF_SIGNED|CERT_|CERTIFICATE_VERIFY_FAILED|unknown ca|certificate verify/i.test(
      text,
    )
  )
    return 'certificate not trusted';
  return err.code ?? err.message;
}

/** The federation channel's rules for MxServer. */
export function federationChannel(opts: FederationInboundOptions): InboundChannel {
  const { logger } = opts;
  return {
    tls: { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    identify(socket: TLSSocket) {
      const cert = socket.getPeerCertificate();
      const region = socket.authorized ? opts.regionOf(cert) : undefined;
      if (region === undefined) {
        opts.onRefused?.({
          peer: socket.remoteAddress,
          reason: 'not a region',
          detail: socket.authorizationError ? String(socket.authorizationError) : 'no region name',
        });
        return replyError('notARegion');
      }
      if (opts.revoked?.(region, cert)) {
        opts.onRefused?.({
          peer: socket.remoteAddress,
          reason: 'certificate revoked',
          detail: `region ${region}, issued ${cert.valid_from}`,
        });
        return replyError('revokedRegion');
      }
      return federationPeer(region);
    },
    async checkRecipient(address, peer) {
      const found = await opts.directory.lookupRecipient(address);
      // Malformed addresses get the policy's own 553 5.1.3.
      if (found.kind === 'invalid') return;
      if (found.kind === 'not-hosted' || found.region !== opts.region) {
        logEventAt(
          logger,
          'warn',
          'federation.smtp_not_homed',
          { peer: peer.name, rcpt: address, home: found.kind === 'not-hosted' ? null : found.region },
          'recipient not homed in this region refused on the federation channel',
        );
        throw replyError('notHomedHere', opts.region);
      }
    },
    onError(err) {
      const e = err as Error & { code?: string; meta?: { remoteAddress?: string } };
      // Failed handshakes come from the listener with the peer address in `meta`.
      if (e.meta?.remoteAddress !== undefined || /SSL|TLS|certificate/i.test(`${e.code} ${e.message}`)) {
        opts.onRefused?.({
          peer: e.meta?.remoteAddress,
          reason: handshakeRefusal(e),
          detail: e.code ?? e.message,
        });
        return;
      }
      logEventAt(logger, 'warn', 'smtp.error', { err: e.message }, 'smtp error');
    },
  };
}

/** The federation listener: MxServer over implicit TLS with the federation channel. */
export function createFederationInbound(opts: FederationInboundOptions): MxServer {
  const { regionOf: _r, onRefused: _o, tls, ...mx } = opts;
  return new MxServer({
    ...mx,
    tls: { key: tls.key, cert: tls.cert },
    implicitTls: true,
    internalNetworks: [],
    channel: federationChannel(opts),
  });
}
