/** `@delegato/mailstore`: the mail store (MTA delivery, IMAP, POP3) — see README.md. */
export * from './backend.js';
export { applyFlags, normalizeFlags, SYSTEM_FLAGS } from './flags.js';
export { canonicalFolderName, MAX_FOLDER_NAME_LENGTH, validateFolderName } from './names.js';
export * from './operations/index.js';
export { MailStore, type MailStoreOptions, type RecoveryReport } from './store.js';
