/** The addressing policy: names -> local parts, and the syntax of local parts, domains and addresses. */
export { normaliseDomain, type ParsedAddress, parseAddress, validateLocalPart } from './address.js';
export { AddressingError, type AddressingErrorCode, initialOf, nameToken } from './names.js';
export { type PersonalLocalParts, personalLocalParts } from './personal.js';
