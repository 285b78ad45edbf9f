/** The attachment gateway: large MIME parts become download links (issue 15). */
export const GATEWAY_PACKAGE = '@delegato/gateway';
