/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The statistics page (the charts, their tables, the period form, the CSV link) and the health page. */
import type { FC } from 'hono/jsx';
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
  const totals = totalsByDomain(answer.rows);
  const domains = totals.map((t) => t.domain);
  const days = daysBetween(from, to);
  const perDay = (pick: (r: StatsRow) => number) =>
    days.map((d) => answer.rows.filter((r) => r.day === d).reduce((s, r) => s + pick(r), 0));
  const messages: Series[] = [
    { name: 'Incoming', values: totals.map((t) => t.in) },
    { name: 'Outgoing', values: totals.map((t) => t.out) },
    { name: 'Internal', values: totals.map((t) => t.internal) },
  ];
  const traffic: Series[] = [
    { name: 'Incoming', values: totals.map((t) => round2(t.bytesIn / MB)) },
    { name: 'Outgoing', values: totals.map((t) => round2(t.bytesOut / MB)) },
    { name: 'Internal', values: totals.map((t) => round2(t.bytesInternal / MB)) },
  ];
  const perMailbox: Series[] = [
    {
      name: 'Messages received per mailbox',
      values: totals.map((t) => (t.mailboxes > 0 ? round2((t.in + t.internal) / t.mailboxes) : 0)),
    },
  ];
  const series: Series[] = [
    { name: 'Incoming', values: perDay((r) => r.messages_in) },
    { name: 'Outgoing', values: perDay((r) => r.messages_out) },
    { name: 'Internal', values: perDay((r) => r.messages_internal) },
    { name: 'Rejected', values: perDay((r) => r.rejected) },
  ];
  const period = `${from} to ${to}`;
  const csv = `${base}.csv?from=${from}&to=${to}`;
  return (
    <section class="stats">
      <h1>Statistics: {scope}</h1>
      <form method="get" action={base} class="card period">
        <label for="from">From</label>
        <input type="date" id="from" name="from" value={from} required />
        <label for="to">To</label>
        <input type="date" id="to" name="to" value={to} required />
        <button type="submit">Show</button>
        <a href={csv} download>
          Download CSV
        </a>
      </form>
      {answer.unreachable.length > 0 ? (
        <p class="notice" role="status">
          Not included, the region did not answer:{' '}
          {answer.unreachable.map((u) => `${u.region} (${u.error})`).join('; ')}
        </p>
      ) : null}
      <p class="muted">
        Counted per day in each region and rolled up by the statistics job (hourly): today's figures may lag
        by up to an hour. Traffic in megabytes (1 MB = 1,000,000 bytes).
      </p>
      <BarChart
        id="chart-messages"
        title={`Messages per domain, ${period}`}
        description={`Bars per domain: incoming, outgoing and internal messages from ${from} to ${to}.`}
        categories={domains}
        series={messages}
      />
      <BarChart
        id="chart-traffic"
        title={`Traffic per domain in MB, ${period}`}
        description={`Bars per domain: megabytes received, sent out and sent internally from ${from} to ${to}.`}
        categories={domains}
        series={traffic}
        unit="MB"
      />
      <BarChart
        id="chart-per-mailbox"
        title={`Average messages received per mailbox, ${period}`}
        description="Incoming and internal messages of each domain divided by its number of active mailboxes."
        categories={domains}
        series={perMailbox}
      />
      <LineChart
        id="chart-days"
        title={`Messages per day, ${period}`}
        description="Incoming, outgoing, internal and rejected messages per day, all domains shown together."
        days={days}
        series={series}
      />
      <table class="chart-data" id="other-counters">
        <caption>Rejected, deferred, bounced and gateway deliveries per domain, {period}</caption>
        <thead>
          <tr>
            <th scope="col">Domain</th>
            <th scope="col">Mailboxes</th>
            <th scope="col">Rejected</th>
            <th scope="col">Deferred</th>
            <th scope="col">Bounced</th>
            <th scope="col">To the gateway</th>
          </tr>
        </thead>
        <tbody>
          {totals.map((t) => (
            <tr>
              <th scope="row">{t.domain}</th>
              <td>{t.mailboxes}</td>
              <td>{t.rejected}</td>
              <td>{t.deferred}</td>
              <td>{t.bounced}</td>
              <td>{t.gateway}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
};

export const HealthPage: FC<{ regions: RegionHealth[] }> = ({ regions }) => (
  <section class="health">
    <h1>Health</h1>
    {regions.map((r) => {
      const bad = r.sections.flatMap((s) => s.checks).filter((c) => !c.ok).length;
      return (
        <section class="card region-health" aria-labelledby={`region-${r.region}`}>
          <h2 id={`region-${r.region}`}>
            Region {r.region}:{' '}
            {r.error ? 'did not answer' : bad === 0 ? 'healthy' : `${bad} problem${bad === 1 ? '' : 's'}`}
          </h2>
          {r.error ? <p class="notice">{r.error}</p> : null}
          {r.sections.map((s) => (
            <table>
              <caption>{s.title}</caption>
              <tbody>
                {s.checks.map((c) => (
                  <tr class={c.ok ? 'ok' : 'problem'}>
                    <th scope="row">{c.name}</th>
                    <td>{c.ok ? 'OK' : 'PROBLEM'}</td>
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
