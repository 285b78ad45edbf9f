/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * On-line help, reachable from every page of the interface (docs/background.md, "The client set-up sheet and
 * on-line help"), written for domain administrators who are not technicians. Every page links to the topic
 * about it.
 */
import type { Child, FC } from 'hono/jsx';

export interface HelpTopic {
  title: string;
  body: Child;
}

export const HELP: Record<string, HelpTopic> = {
  index: {
    title: 'Help',
    body: (
      <>
        <p>
          This is where you manage the e-mail of your organisation's domains: the people who have a mailbox,
          the extra addresses that lead to them, and addresses that lead elsewhere. You never need to touch a
          server: everything you change here takes effect within seconds.
        </p>
        <p>Each domain has four sections, in the bar under the top of the page:</p>
        <ul>
          <li>
            <a href="/help/mailboxes">Local mailboxes</a>: the people and roles (helpdesk, secretary) who
            receive mail here.
          </li>
          <li>
            <a href="/help/forwards">Remote mailboxes</a>: addresses of your domain whose mailbox is on
            another server.
          </li>
          <li>
            <a href="/help/aliases">Aliases</a>: extra addresses that deliver to one or more mailboxes.
          </li>
          <li>
            <a href="/help/lists">Distribution lists</a>: mailing lists run here (members, who may post,
            moderation by an owner), and addresses of mailing lists run on a list server.
          </li>
          <li>
            <a href="/help/gateway">Attachment gateway</a>: large attachments kept on the server and replaced
            by a download link, for the mailboxes you choose.
          </li>
        </ul>
      </>
    ),
  },
  'signing-in': {
    title: 'Signing in',
    body: (
      <>
        <p>
          <strong>Administrators</strong> sign in with the user name the operators gave them.{' '}
          <strong>Mailbox users</strong> sign in with their e-mail address and mail password, to change their
          password or see the settings for their mail program.
        </p>
        <p>
          After several wrong passwords, signing in is paused for a few minutes, for the account and for the
          network it was tried from. Wait, then try again. If you forgot your password, ask your administrator
          (administrators ask the operators).
        </p>
        <p>
          You are signed out after 30 minutes without activity, and after 12 hours in any case. Use{' '}
          <em>Sign out</em> on shared computers.
        </p>
        <p>
          The operators may allow an administrator account only from certain networks, or only from a browser
          holding a certificate they issued. Elsewhere, signing in fails as if the password were wrong. Every
          sign-in and sign-out is recorded with the network address it came from.
        </p>
      </>
    ),
  },
  'two-step': {
    title: 'Two-step sign-in',
    body: (
      <>
        <p>
          Two-step sign-in protects your administrator account even if someone learns your password: signing
          in also asks for a 6-digit code from an authenticator app on your phone. The code changes every 30
          seconds.
        </p>
        <p>
          To turn it on, open <a href="/me/totp">Two-step sign-in settings</a> under <em>My account</em>, type
          the key shown there into your app, and type the code the app shows. If you lose your phone, ask the
          operators to reset it.
        </p>
      </>
    ),
  },
  mailboxes: {
    title: 'Local mailboxes',
    body: (
      <>
        <p>
          The list shows every mailbox of the domain with its official address. Type part of a name or address
          in <em>Search</em> to find one. Click an address to see its aliases, set a new password or an
          expiration date, print the set-up sheet, or remove it.
        </p>
        <p>
          <em>removed</em> means the mailbox no longer works; its mail is kept for a while and then deleted.{' '}
          <em>expired</em> means its expiration date has passed: it no longer receives mail or signs in, until
          you give it a later date.
        </p>
        <p>
          To add one, use <a href="/help/new-mailbox">Add a user</a>.
        </p>
      </>
    ),
  },
  'new-mailbox': {
    title: 'Adding a user',
    body: (
      <>
        <p>
          For a <strong>personal</strong> address, type the first and last name: the official address is made
          for you as <em>firstname.lastname@domain</em>, with two aliases, <em>f.lastname@</em> and{' '}
          <em>lastname@</em>. Accents and other alphabets are written in plain letters (Nicolò becomes
          nicolo).
        </p>
        <p>
          For a <strong>role</strong> address (helpdesk, secretary, info), choose <em>Role</em> and type the
          part before the @ in <em>E-mail</em>.
        </p>
        <p>
          If the address exists already (a second Mario Rossi), type another one in <em>E-mail</em>, for
          example mario.rossi2. When two people would share an alias such as <em>rossi@</em>, the alias
          becomes <strong>ambiguous</strong>: mail to it is returned to the sender with both official
          addresses, so they can choose.
        </p>
        <p>
          <em>Password</em>: leave it empty to have one made up; it is shown once, right after.{' '}
          <em>Username</em> is an optional short sign-in name. <em>Expiration date</em> is the last day the
          mailbox works (useful for guests and contracts). <em>Group</em>, <em>Contact person</em> and{' '}
          <em>Flag</em> are notes for you.
        </p>
      </>
    ),
  },
  mailbox: {
    title: 'One mailbox',
    body: (
      <>
        <p>
          The page shows the <strong>official address</strong> (the one to give out) and the{' '}
          <strong>aliases</strong> that also deliver to it. An alias marked <em>ambiguous</em> is shared with
          another person and delivers to neither.
        </p>
        <p>
          <em>Set password</em> replaces the password: tell the user the new one in person or by phone.{' '}
          <em>Expiration date</em>: the last day the mailbox works; leave empty for never.{' '}
          <em>Remove mailbox</em> stops it at once; its mail is kept for the retention period unless you tick{' '}
          <em>Delete its mail now</em>.
        </p>
        <p>
          The <a href="/help/setup-sheet">set-up sheet</a> is a page to print for the user.
        </p>
      </>
    ),
  },
  'setup-sheet': {
    title: 'The set-up sheet',
    body: (
      <>
        <p>
          The set-up sheet lists what a mail program needs: the address, the user name, and the servers and
          ports for incoming (IMAP or POP3) and outgoing (SMTP) mail, with short steps for Thunderbird,
          Outlook, Apple Mail and phones. Print it with your browser's Print command; it fits one A4 page. The
          password is never printed: write it on by hand if you want.
        </p>
        <p>
          The server names contain your own domain (imap.yourdomain, smtp.yourdomain), so users never need to
          change their settings when the service moves.
        </p>
      </>
    ),
  },
  forwards: {
    title: 'Addresses for remote mailboxes',
    body: (
      <>
        <p>
          An address of your domain whose mailbox is on another server: mail is passed on to the remote
          address. This lets you move people to this service one at a time: until someone moves, their address
          here forwards to their old mailbox. When they move, remove the forward and add their mailbox.
        </p>
      </>
    ),
  },
  aliases: {
    title: 'Aliases',
    body: (
      <>
        <p>
          An alias is an extra address. Mail to it goes to all its targets: mailboxes of your domain (type
          just the part before the @) or full addresses elsewhere. Adding an alias that exists already adds
          targets to it.
        </p>
        <p>
          Aliases <em>made from a name</em> are created with each personal mailbox.{' '}
          <em>Former official address</em> aliases keep old addresses working after a rename. An{' '}
          <strong>ambiguous</strong> alias is shared by several people: mail to it is returned to the sender
          with the candidates' official addresses.
        </p>
      </>
    ),
  },
  lists: {
    title: 'Distribution lists',
    body: (
      <>
        <p>
          A <strong>mailing list</strong> runs here: an address of your domain, an owner (a mailbox of your
          domain), who may post (members only, anyone of the domain, anyone, or the senders you list) and the
          members, who get one copy of each message. A sender who may not post is refused at once, by their
          own mail server. On a <strong>moderated</strong> list every message waits until the owner approves
          it, on their own page after signing in with their mailbox address, or by answering the notice they
          get; messages nobody decides on are discarded after a few days and their senders told.
        </p>
        <p>
          A distribution-list alias is an address of your domain for a mailing list that runs on a list
          server. Mail to it is passed to the list's address on the list server, which sends it to the
          members.
        </p>
      </>
    ),
  },
  gateway: {
    title: 'Attachment gateway',
    body: (
      <>
        <p>
          Some mail programs, on slow or metered connections, cannot download a message with a large scan or
          photo in it before they give up. For the mailboxes you register here, the server takes large
          attachments out of incoming mail, keeps them, and puts in their place a short note with the file's
          name, its size and a download link. Everything else in the message stays as it was.
        </p>
        <p>
          Register one mailbox, every mailbox of the domain, or a sender (an address such as
          scans@library.example, or a whole domain such as library.example): then only that sender's mail is
          changed. The <em>rules</em> say which attachments are taken out (larger than the threshold, and of
          the listed media types: <code>application/pdf</code>, <code>image/*</code>; empty means all), how
          many days the links work, and whether downloading needs the recipient's mailbox password. After the
          expiry the files are deleted; the disk space they use is shown on the page.
        </p>
        <p>
          The links are long random addresses that cannot be guessed; a download that breaks off can be
          resumed. A message whose structure is damaged is delivered unchanged.
        </p>
      </>
    ),
  },
  domains: {
    title: 'Domains (operators)',
    body: (
      <>
        <p>
          Add a hosted domain and choose its region: its mail is stored there. Every domain gets a postmaster@
          mailbox. Then add a domain administrator for it under <em>Administrators</em>.
        </p>
        <p>
          Removing a domain that still has mailboxes needs the confirmation box: its mailboxes, aliases and
          mail go with it.
        </p>
      </>
    ),
  },
  admins: {
    title: 'Administrators (operators)',
    body: (
      <>
        <p>
          Operators manage everything. Domain administrators manage only the domains chosen for them, and
          cannot see the others. Removing an administrator signs them out at once. The last operator cannot be
          removed.
        </p>
        <p>
          Click an administrator's name to restrict where they can sign in from. <em>Allowed networks</em>:
          addresses or ranges such as <code>192.0.2.0/24</code>, one per line (empty: anywhere).{' '}
          <em>Client certificate fingerprint</em>: the SHA-256 fingerprint of a certificate their browser must
          present (empty: none needed). These apply at once, also to sessions already open.
        </p>
      </>
    ),
  },
  regions: {
    title: 'Regions (operators)',
    body: <p>Each region runs one appliance; a domain's mail is stored in its home region.</p>,
  },
  audit: {
    title: 'Audit log',
    body: (
      <p>
        Every change is recorded: when, by whom, from which network address, and what; so is every sign-in,
        failed sign-in, pause after too many failures, and sign-out. Domain administrators see the changes
        (and their mailbox users' sign-ins) in their domains under <em>Changes</em>.
      </p>
    ),
  },
  'my-account': {
    title: 'My account',
    body: (
      <>
        <p>
          Change your password here: type the current one and the new one. Other places where you are signed
          in are signed out.
        </p>
        <p>
          Mailbox users also find the settings for their mail program here. Administrators can turn on{' '}
          <a href="/help/two-step">two-step sign-in</a>.
        </p>
      </>
    ),
  },
};

export const HelpPage: FC<{ topic: HelpTopic; slug: string }> = ({ topic, slug }) => (
  <section class="help">
    <h1>{topic.title}</h1>
    {topic.body}
    <h2>Other topics</h2>
    <ul>
      {Object.entries(HELP)
        .filter(([s]) => s !== slug)
        .map(([s, t]) => (
          <li>
            <a href={s === 'index' ? '/help' : `/help/${s}`}>{t.title}</a>
          </li>
        ))}
    </ul>
  </section>
);
