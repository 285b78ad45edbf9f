/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The statistics page (the charts, their tables, the period form, the CSV link) and the health page. */
import type { FC } from 'hono/jsx';
import { useT } from '../i18n/index.js';
import { BarChart, LineChart, type Series } from './charts.js';
import type { RegionHealth, StatsAnswer, StatsRow } from './source.js';

const MB = 1_000_000;
const round2 = (v: number) => Math.round(v * 100) / 100;

interface DomainTotals {
  domain: string;
  in: number;
  out: number;
  internal: number;
  bytesIn: number;
  bytesOut: number;
  bytesInternal: number;
  rejected: number;
  deferred: number;
  bounced: number;
  gateway: number;
  /** Active mailboxes on the last day of the period (its home region's figure). */
  mailboxes: number;
  lastDay: string;
}

/** Sums a period's rows per domain (over days and regions). */
export function totalsByDomain(rows: StatsRow[]): DomainTotals[] {
  const by = new Map<string, DomainTotals>();
  for (const r of rows) {
    const t = by.get(r.domain) ?? {
      domain: r.domain,
      in: 0,
      out: 0,
      internal: 0,
      bytesIn: 0,
      bytesOut: 0,
      bytesInternal: 0,
      rejected: 0,
      deferred: 0,
      bounced: 0,
      gateway: 0,
      mailboxes: 0,
      lastDay: '',
    };
    t.in += r.messages_in;
    t.out += r.messages_out;
    t.internal += r.messages_internal;
    t.bytesIn += r.bytes_in;
    t.bytesOut += r.bytes_out;
    t.bytesInternal += r.bytes_internal;
    t.rejected += r.rejected;
    t.deferred += r.deferred;
    t.bounced += r.bounced;
    t.gateway += r.gateway;
    if (r.mailboxes > 0 && r.day >= t.lastDay) {
      t.mailboxes = r.mailboxes;
      t.lastDay = r.day;
    }
    by.set(r.domain, t);
  }
  return [...by.values()].sort((a, b) => a.domain.localeCompare(b.domain));
}

/** Every day from `from` to `to`. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export const StatsPage: FC<{
  answer: StatsAnswer;
  from: string;
  to: string;
  /** Where the form and the CSV link point (`/stats` or `/d/<domain>/stats`). */
  base: string;
  scope: string;
}> = ({ answer, from, to, base, scope }) => {
  const t = useT();
  const totals = totalsByDomain(answer.rows);
  const domains = totals.map((t) => t.domain);
  const days = daysBetween(from, to);
  const perDay = (pick: (r: StatsRow) => number) =>
    days.map((d) => answer.rows.filter((r) => r.day === d).reduce((s, r) => s + pick(r), 0));
  const messages: Series[] = [
    { name: t('stats.incoming'), values: totals.map((d) => d.in) },
    { name: t('stats.outgoing'), values: totals.map((d) => d.out) },
    { name: t('stats.internal'), values: totals.map((d) => d.internal) },
  ];
  const traffic: Series[] = [
    { name: t('stats.incoming'), values: totals.map((d) => round2(d.bytesIn / MB)) },
    { name: t('stats.outgoing'), values: totals.map((d) => round2(d.bytesOut / MB)) },
    { name: t('stats.internal'), values: totals.map((d) => round2(d.bytesInternal / MB)) },
  ];
  const perMailbox: Series[] = [
    {
      name: t('stats.perMailbox'),
      values: totals.map((d) => (d.mailboxes > 0 ? round2((d.in + d.internal) / d.mailboxes) : 0)),
    },
  ];
  const series: Series[] = [
    { name: t('stats.incoming'), values: perDay((r) => r.messages_in) },
    { name: t('stats.outgoing'), values: perDay((r) => r.messages_out) },
    { name: t('stats.internal'), values: perDay((r) => r.messages_internal) },
    { name: t('stats.rejected'), values: perDay((r) => r.rejected) },
  ];
  const period = t('stats.period', { from, to });
  const csv = `${base}.csv?from=${from}&to=${to}`;
  return (
    <section class="stats">
      <h1>{t('stats.heading', { scope })}</h1>
      <form method="get" action={base} class="card period">
        <label for="from">{t('stats.from')}</label>
        <input type="date" id="from" name="from" value={from} required />
        <label for="to">{t('stats.to')}</label>
        <input type="date" id="to" name="to" value={to} required />
        <button type="submit">{t('stats.show')}</button>
        <a href={csv} download>
          {t('stats.downloadCsv')}
        </a>
      </form>
      {answer.unreachable.length > 0 ? (
        <p class="notice" role="status">
          {t('stats.unreachable')} {answer.unreachable.map((u) => `${u.region} (${u.error})`).join('; ')}
        </p>
      ) : null}
      <p class="muted">{t('stats.note')}</p>
      <BarChart
        id="chart-messages"
        title={t('stats.messagesTitle', { period })}
        description={t('stats.messagesDesc', { from, to })}
        categories={domains}
        series={messages}
      />
      <BarChart
        id="chart-traffic"
        title={t('stats.trafficTitle', { period })}
        description={t('stats.trafficDesc', { from, to })}
        categories={domains}
        series={traffic}
        unit="MB"
      />
      <BarChart
        id="chart-per-mailbox"
        title={t('stats.perMailboxTitle', { period })}
        description={t('stats.perMailboxDesc')}
        categories={domains}
        series={perMailbox}
      />
      <LineChart
        id="chart-days"
        title={t('stats.daysTitle', { period })}
        description={t('stats.daysDesc')}
        days={days}
        series={series}
      />
      <table class="chart-data" id="other-counters">
        <caption>{t('stats.otherCaption', { period })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('stats.domain')}</th>
            <th scope="col">{t('stats.mailboxes')}</th>
            <th scope="col">{t('stats.rejected')}</th>
            <th scope="col">{t('stats.deferred')}</th>
            <th scope="col">{t('stats.bounced')}</th>
            <th scope="col">{t('stats.toGateway')}</th>
          </tr>
        </thead>
        <tbody>
          {totals.map((d) => (
            <tr>
              <th scope="row">{d.domain}</th>
              <td>{d.mailboxes}</td>
              <td>{d.rejected}</td>
              <td>{d.deferred}</td>
              <td>{d.bounced}</td>
              <td>{d.gateway}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
};

export const HealthPage: FC<{ regions: RegionHealth[] }> = ({ regions }) => {
  const t = useT();
  return (
    <section class="health">
      <h1>{t('health.title')}</h1>
      {regions.map((r) => {
        const bad = r.sections.flatMap((s) => s.checks).filter((c) => !c.ok).length;
        return (
          <section class="card region-health" aria-labelledby={`region-${r.region}`}>
            <h2 id={`region-${r.region}`}>
              {t('health.region', { region: r.region })}{' '}
              {r.error
                ? t('health.noAnswer')
                : bad === 0
                  ? t('health.healthy')
                  : t(bad === 1 ? 'health.problem' : 'health.problems', { count: bad })}
            </h2>
            {r.error ? <p class="notice">{r.error}</p> : null}
            {r.sections.map((s) => (
              <table>
                <caption>{s.title}</caption>
                <tbody>
                  {s.checks.map((c) => (
                    <tr class={c.ok ? 'ok' : 'problem'}>
                      <th scope="row">{c.name}</th>
                      <td>{c.ok ? t('health.ok') : t('health.bad')}</td>
                      <td>{c.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ))}
          </section>
        );
      })}
    </section>
  );
};
