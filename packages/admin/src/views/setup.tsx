/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The client set-up sheet (docs/background.md, "The client set-up sheet and on-line help"): everything a
 * user needs to set up a mail program, on one A4 page. Server names are the domain's own
 * (`imap.<domain>`...), so the sheet stays right when the domain moves to another region.
 */
import type { FC } from 'hono/jsx';
import type { MailPorts, ServerNames } from '../env.js';

export interface SetupInfo {
  address: string;
  /** The sign-in name that always works: the official address. */
  login: string;
  /** The short username, also accepted as `username@domain`. */
  username: string;
  domain: string;
  names: ServerNames;
  ports: MailPorts;
}

export const SetupSheet: FC<{ info: SetupInfo }> = ({ info }) => {
  const { names, ports } = info;
  return (
    <article class="sheet">
      <p class="print-note no-print">Use your browser's Print command: this page fits on one A4 sheet.</p>
      <h1>E-mail settings for {info.address}</h1>
      <table>
        <tbody>
          <tr>
            <th>E-mail address</th>
            <td class="mono">{info.address}</td>
          </tr>
          <tr>
            <th>User name</th>
            <td>
              <span class="mono">{info.login}</span>
              {`${info.username}@${info.domain}` !== info.login ? (
                <span class="muted">
                  {' '}
                  (or <span class="mono">{`${info.username}@${info.domain}`}</span>)
                </span>
              ) : null}
            </td>
          </tr>
          <tr>
            <th>Password</th>
            <td>the one your administrator gave you (it is never printed here)</td>
          </tr>
        </tbody>
      </table>
      <table>
        <thead>
          <tr>
            <th>Service</th>
            <th>Server</th>
            <th>Port and security</th>
            <th>Alternative</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>Incoming mail: IMAP (recommended)</td>
            <td class="mono">{names.imap}</td>
            <td>{ports.imaps}, SSL/TLS</td>
            <td>{ports.imap}, STARTTLS</td>
          </tr>
          <tr>
            <td>Incoming mail: POP3</td>
            <td class="mono">{names.pop}</td>
            <td>{ports.pop3s}, SSL/TLS</td>
            <td>{ports.pop3}, STARTTLS (STLS)</td>
          </tr>
          <tr>
            <td>Outgoing mail: SMTP</td>
            <td class="mono">{names.smtp}</td>
            <td>{ports.submissions}, SSL/TLS</td>
            <td>{ports.submission}, STARTTLS</td>
          </tr>
        </tbody>
      </table>
      <p>
        Authentication: <strong>normal password</strong>, with the user name and password above, for incoming
        and outgoing mail. Outgoing mail always needs the password, also from home or when travelling.
      </p>
      <div class="clients">
        <div>
          <h3>Thunderbird</h3>
          <p>
            Menu › Account Settings › Account Actions › Add Mail Account. Type your name, e-mail address and
            password, then Continue: Thunderbird finds the settings by itself. If it does not, choose
            "Configure manually" and type the servers and ports from the table.
          </p>
        </div>
        <div>
          <h3>Outlook</h3>
          <p>
            File › Add Account. Type the e-mail address, open "Advanced options", tick "Let me set up my
            account manually", choose IMAP, and type the servers, ports and security from the table. Use the
            same user name and password for outgoing mail.
          </p>
        </div>
        <div>
          <h3>Apple Mail (Mac)</h3>
          <p>
            Mail › Add Account › Other Mail Account. Type name, address and password, then Sign In. When
            asked, choose IMAP and type {names.imap} as incoming and {names.smtp} as outgoing server, with the
            user name above.
          </p>
        </div>
        <div>
          <h3>Phone or tablet</h3>
          <p>
            iPhone/iPad: Settings › Mail › Accounts › Add Account › Other › Add Mail Account. Android: in your
            mail app, Add account › Other (IMAP). Type the address and password, then the servers from the
            table when asked.
          </p>
        </div>
      </div>
      <p class="muted">Keep this sheet in a safe place. Questions: ask your e-mail administrator.</p>
    </article>
  );
};
