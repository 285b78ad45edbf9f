/**
 * English: the reference catalogue. A key names a message as `area.what`; `{name}` is a parameter.
 * Every other language must have every key (it.ts is typed `Messages`).
 */
export const en = {
  // The frame of every page (views/layout.tsx)
  'app.name': 'Delegato',
  'layout.title': '{title} · Delegato',
  'layout.help': 'Help',
  'layout.signOut': 'Sign out',
  'layout.goToDomain': 'Go to domain',
  'layout.open': 'Open',
  'layout.helpForPage': 'Help for this page',
  'layout.allHelp': 'All help topics',
  'layout.language': 'Language',
  'layout.languageApply': 'Change',
  'layout.mainNav': 'Main',
  'layout.domainNav': 'Domain {domain}',
  'nav.domains': 'Domains',
  'nav.admins': 'Administrators',
  'nav.regions': 'Regions',
  'nav.audit': 'Audit log',
  'nav.queue': 'Outbound queue',
  'nav.me': 'My account',
  'nav.mailboxes': 'Local mailboxes',
  'nav.forwards': 'Remote mailboxes',
  'nav.aliases': 'Aliases',
  'nav.lists': 'Distribution lists',
  'nav.changes': 'Changes',
  'nav.import': 'Import and export',

  // Error pages (app.tsx, views/error.tsx)
  'error.code': 'Error {status}.',
  'error.backToStart': 'Back to the start page',
  'error.notFoundPage': 'There is no page at this address.',
  'error.unexpected': 'Something went wrong on our side. Please try again in a moment.',

  // Shared bits of lists and forms
  'common.search': 'Search',
  'common.filter': 'Filter',
  'common.sortBy': 'Sort by',
  'common.previous': 'Previous',
  'common.next': 'Next',
  'common.pageOf': 'Page {page} of {pages}',
  'common.shown': '{from}–{to} of {total}',
  'common.none': 'None.',
  'common.save': 'Save',
  'common.cancel': 'Cancel',
  'common.confirm': 'Yes, go ahead',
  'common.unlimited': 'unlimited',
  'common.all': 'All',
  'common.yes': 'yes',
  'common.no': 'no',
} as const;
