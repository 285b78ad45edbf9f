/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The DNS records page of a domain: what to publish, and (after "check") what DNS has of it. */
import type { FC } from 'hono/jsx';
import { type MessageKey, useT } from '../i18n/index.js';
import { ButtonForm } from '../views/form.js';
import { seg as enc } from '../views/paths.js';
import type { DnsCheckRow, DnsRecordRow } from './source.js';

/** The message naming what a record is for. */
export function purposeKey(r: DnsRecordRow): MessageKey {
  if (r.type === 'MX') return 'dns.purpose.mx';
  if (r.type === 'SRV') return 'dns.purpose.srv';
  if (r.type === 'CNAME')
    return r.name.startsWith('mta-sts.')
      ? 'dns.purpose.mtaStsHost'
      : /^auto(config|discover)\./.test(r.name)
        ? 'dns.purpose.autoconfig'
        : 'dns.purpose.host';
  if (r.value.startsWith('v=spf1')) return 'dns.purpose.spf';
  if (r.value.startsWith('v=DKIM1')) return 'dns.purpose.dkim';
  if (r.value.startsWith('v=DMARC1')) return 'dns.purpose.dmarc';
  if (r.value.startsWith('v=STSv1')) return 'dns.purpose.mtaSts';
  return 'dns.purpose.tlsrpt';
}

export const DnsPage: FC<{
  domain: string;
  csrf: string;
  records: DnsRecordRow[];
  checks?: DnsCheckRow[];
}> = ({ domain, csrf, records, checks }) => {
  const t = useT();
  const rows: Array<DnsRecordRow & Partial<DnsCheckRow>> = checks ?? records;
  const missing = checks?.filter((c) => !c.ok).length ?? 0;
  return (
    <>
      <p>{t('dns.intro', { domain })}</p>
      {checks ? (
        <p role="status" class={missing === 0 ? 'ok' : 'error'}>
          {missing === 0 ? t('dns.allOk') : t('dns.someMissing', { count: missing })}
        </p>
      ) : null}
      <ButtonForm action={`/d/${enc(domain)}/dns/check`} csrf={csrf} label={t('dns.check')} />
      <p class="hint">{t('dns.checkIntro')}</p>
      <table>
        <caption>{t('dns.title', { domain })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('dns.name')}</th>
            <th scope="col">{t('dns.type')}</th>
            <th scope="col">{t('dns.value')}</th>
            <th scope="col">{t('dns.purpose')}</th>
            {checks ? <th scope="col">{t('dns.status')}</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>
                <code>{r.name}</code>
              </td>
              <td>{r.type}</td>
              <td>
                <code class="wrap">{r.value}</code>
              </td>
              <td>{t(purposeKey(r))}</td>
              {checks ? (
                <td>
                  {r.ok ? (
                    t('dns.ok')
                  ) : (
                    <>
                      <strong>{t('dns.missing')}</strong> {t('dns.found', { found: r.found ?? '' })}
                    </>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
};
