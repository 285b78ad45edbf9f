/**
 * @delegato/federation: what connects regions. The replication hub (`tursodb --sync-server`, supervised),
 * the authenticated TLS endpoint in front of it, the federation PKI, and the sync client's transport.
 * See packages/federation/README.md.
 */
export const FEDERATION_PACKAGE = '@delegato/federation';
