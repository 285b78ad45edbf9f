/**
 * @delegato/federation: what connects regions. The replication hub (`tursodb --sync-server`, supervised),
 * the authenticated TLS endpoint in front of it, the federation PKI, and the sync client's transport.
 * See packages/federation/README.md.
 */
export const FEDERATION_PACKAGE = '@delegato/federation';

export {
  freeLoopbackPort,
  type HubOptions,
  type HubState,
  HubSupervisor,
  tursodbPath,
} from './hub.js';
export {
  BUNDLE_FORMAT,
  type CreateCaOptions,
  createFederationCa,
  decodeBundle,
  encodeBundle,
  FEDERATION_NAME_SUFFIX,
  type FederationCa,
  federationPaths,
  type InstallOptions,
  type IssueOptions,
  installRegionBundle,
  issueRegionBundle,
  issueRegionCertificate,
  loadFederationCa,
  loadRegionTls,
  PkiError,
  REGION_ID,
  type RegionBundle,
  type RegionCredentials,
  type RegionTls,
  readFederationKey,
  readRegionBundle,
  regionName,
  regionOfPeerCertificate,
  verifyPeerCertificate,
  writeRegionBundle,
} from './pki.js';
export { SYNC_PATHS, type SyncGateway, type SyncGatewayOptions, startSyncGateway } from './sync-gateway.js';
export {
  type FederationFetch,
  type FederationRemote,
  federationFetch,
  type SyncConnectOptions,
  type SyncRemote,
  syncConnectOptions,
  type TursoCloudRemote,
} from './sync-transport.js';
