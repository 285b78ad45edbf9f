/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The client set-up sheet (docs/background.md, "The client set-up sheet and on-line help"): everything a
 * user needs to set up a mail program, on one A4 page. Server names are the domain's own
 * (`imap.<domain>`...), so the sheet stays right when the domain moves to another region.
 */
import type { FC } from 'hono/jsx';
import type { MailPorts, ServerNames } from '../env.js';
import { useT } from '../i18n/index.js';

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
  const t = useT();
  const { names, ports } = info;
  return (
    <article class="sheet">
      <p class="print-note no-print">{t('setup.printNote')}</p>
      <h1>{t('setup.heading', { address: info.address })}</h1>
      <table>
        <tbody>
          <tr>
            <th>{t('setup.address')}</th>
            <td class="mono">{info.address}</td>
          </tr>
          <tr>
            <th>{t('setup.userName')}</th>
            <td>
              <span class="mono">{info.login}</span>
              {`${info.username}@${info.domain}` !== info.login ? (
                <span class="muted">
                  {' '}
                  ({t('setup.or')} <span class="mono">{`${info.username}@${info.domain}`}</span>)
                </span>
              ) : null}
            </td>
          </tr>
          <tr>
            <th>{t('setup.password')}</th>
            <td>{t('setup.passwordText')}</td>
          </tr>
        </tbody>
      </table>
      <table>
        <thead>
          <tr>
            <th>{t('setup.service')}</th>
            <th>{t('setup.server')}</th>
            <th>{t('setup.portSecurity')}</th>
            <th>{t('setup.alternative')}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>{t('setup.imap')}</td>
            <td class="mono">{names.imap}</td>
            <td>{ports.imaps}, SSL/TLS</td>
            <td>{ports.imap}, STARTTLS</td>
          </tr>
          <tr>
            <td>{t('setup.pop')}</td>
            <td class="mono">{names.pop}</td>
            <td>{ports.pop3s}, SSL/TLS</td>
            <td>{ports.pop3}, STARTTLS (STLS)</td>
          </tr>
          <tr>
            <td>{t('setup.smtp')}</td>
            <td class="mono">{names.smtp}</td>
            <td>{ports.submissions}, SSL/TLS</td>
            <td>{ports.submission}, STARTTLS</td>
          </tr>
        </tbody>
      </table>
      <p>
        {t('setup.authLabel')} <strong>{t('setup.authNormal')}</strong>
        {t('setup.authText')}
      </p>
      <div class="clients">
        <div>
          <h3>Thunderbird</h3>
          <p>{t('setup.thunderbird')}</p>
        </div>
        <div>
          <h3>Outlook</h3>
          <p>{t('setup.outlook')}</p>
        </div>
        <div>
          <h3>{t('setup.appleMail')}</h3>
          <p>{t('setup.appleMailText', { imap: names.imap, smtp: names.smtp })}</p>
        </div>
        <div>
          <h3>{t('setup.phone')}</h3>
          <p>{t('setup.phoneText')}</p>
        </div>
      </div>
      <p class="muted">{t('setup.keep')}</p>
    </article>
  );
};
