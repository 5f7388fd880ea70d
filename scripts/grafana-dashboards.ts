// Writes the Grafana dashboards of the chart (charts/correo/dashboards/*.json) from the short
// descriptions below: `node --import tsx scripts/grafana-dashboards.ts`. Written as code so that
// the five dashboards share one layout and panel shape; e2e/test/helm.test.ts fails when the
// committed JSON differs, and checks that every charted metric is exported.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_DIR = fileURLToPath(new URL('../charts/correo/dashboards', import.meta.url));

type Query = [expr: string, legend: string];
interface Panel {
  title: string;
  unit: string;
  queries: Query[];
  /** Panel type; timeseries unless said. */
  type?: 'timeseries' | 'stat';
}
interface Dashboard {
  file: string;
  uid: string;
  title: string;
  panels: Panel[];
}

const rate = (metric: string, by = '') => `sum${by ? ` by (${by})` : ''} (rate(${metric}[$__rate_interval]))`;
const quantile = (q: number, histogram: string, by = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${histogram}_bucket[$__rate_interval])))`;

/** p50 and p99 of a histogram, per `by` label when given. */
const latencyPanel = (title: string, histogram: string, by = ''): Panel => ({
  title,
  unit: 's',
  queries: [0.5, 0.99].map((q): Query => [
    quantile(q, histogram, by),
    `p${q * 100}${by ? ` {{${by}}}` : ''}`,
  ]),
});

const processPanels: Panel[] = [
  {
    title: 'Process memory (RSS) per pod',
    unit: 'bytes',
    queries: [['correo_process_resident_memory_bytes', '{{pod}}']],
  },
  {
    title: 'Process CPU per pod',
    unit: 'percentunit',
    queries: [['rate(correo_process_cpu_seconds_total[$__rate_interval])', '{{pod}}']],
  },
  {
    title: 'Event loop lag p99 per pod',
    unit: 's',
    queries: [['correo_nodejs_eventloop_lag_p99_seconds', '{{pod}}']],
  },
  {
    title: 'Restarts in the last 30 minutes',
    unit: 'short',
    queries: [['changes(correo_process_start_time_seconds[30m])', '{{pod}}']],
  },
];

export const dashboards: Dashboard[] = [
  {
    file: 'overview.json',
    uid: 'correo-overview',
    title: 'correo / overview',
    panels: [
      {
        title: 'Mail flow per second',
        unit: 'ops',
        queries: [
          [rate('correo_smtp_messages_accepted_total'), 'accepted (SMTP 250)'],
          [rate('correo_mda_delivered_total'), 'delivered to mailboxes'],
          [
            `sum(rate(correo_relay_recipient_outcomes_total{outcome="delivered"}[$__rate_interval]))`,
            'relayed (recipients)',
          ],
          [rate('correo_smtp_messages_rejected_total'), 'rejected at SMTP'],
          [rate('correo_mda_rejected_total'), 'rejected by the mda'],
        ],
      },
      latencyPanel('250 to stored in the mailbox', 'correo_mda_delivery_latency_seconds'),
      {
        title: 'Bus lag per partition',
        unit: 'short',
        queries: [
          ['max by (group, topic, partition) (correo_bus_consumer_lag)', '{{group}} {{topic}}/{{partition}}'],
        ],
      },
      {
        title: 'Consumers waiting for a backend',
        unit: 'short',
        queries: [
          ['max by (group, topic) (correo_bus_consumer_stalled)', '{{group}} on {{topic}}'],
          [rate('correo_bus_backend_retries_total', 'group'), 'retries/s {{group}}'],
        ],
      },
      {
        title: 'Dead-lettered events per second',
        unit: 'ops',
        queries: [
          [rate('correo_mda_dead_lettered_total'), 'mda'],
          [rate('correo_relay_dead_lettered_total'), 'relay'],
        ],
      },
      {
        title: 'Dead-letter queue size',
        unit: 'short',
        queries: [['max by (group) (correo_dead_letters_waiting)', '{{group}}']],
      },
      {
        title: 'Relay deferred queue',
        unit: 'short',
        queries: [['max(correo_relay_queue_depth)', 'jobs queued']],
      },
      {
        title: 'Relay oldest deferred job',
        unit: 's',
        queries: [['max(correo_relay_queue_oldest_age_seconds)', 'age']],
      },
      {
        title: 'Error rates',
        unit: 'ops',
        queries: [
          [rate('correo_smtp_connections_refused_total', 'reason'), 'SMTP refused {{reason}}'],
          [`sum(rate(correo_imap_commands_total{status=~"NO|BAD"}[$__rate_interval]))`, 'IMAP NO/BAD'],
          [rate('correo_logins_total{outcome=~"failure|locked_out"}'), 'failed logins (all protocols)'],
        ],
      },
      {
        title: 'Backend checks failing',
        unit: 'short',
        queries: [['sum by (check) (1 - correo_readiness_check)', '{{check}}']],
      },
      {
        title: 'Days until the TLS certificate expires',
        unit: 'd',
        type: 'stat',
        queries: [['min((correo_tls_certificate_expiry_timestamp_seconds - time()) / 86400)', 'days']],
      },
    ],
  },
  {
    file: 'smtp.json',
    uid: 'correo-smtp',
    title: 'correo / SMTP',
    panels: [
      {
        title: 'Sessions',
        unit: 'short',
        queries: [
          ['sum by (listener) (correo_smtp_active_connections)', 'open {{listener}}'],
          [rate('correo_smtp_connections_total', 'listener'), 'new/s {{listener}}'],
        ],
      },
      {
        title: 'TLS share of sessions',
        unit: 'percentunit',
        queries: [
          [
            // A listener without TLS sessions shows 0, not nothing.
            `(${rate('correo_smtp_tls_sessions_total', 'listener')} or ${rate('correo_smtp_connections_total', 'listener')} * 0) / ${rate('correo_smtp_connections_total', 'listener')}`,
            '{{listener}}',
          ],
        ],
      },
      {
        title: 'Outcomes per second',
        unit: 'ops',
        queries: [
          [rate('correo_smtp_messages_accepted_total', 'listener'), '250 {{listener}}'],
          [
            rate('correo_smtp_messages_rejected_total', 'listener, reason'),
            'rejected {{listener}} {{reason}}',
          ],
          [
            rate('correo_smtp_connections_refused_total', 'listener, reason'),
            'refused {{listener}} {{reason}}',
          ],
        ],
      },
      {
        title: 'Replies by code per second',
        unit: 'ops',
        queries: [
          [rate('correo_smtp_messages_accepted_total'), '250 2.0.0'],
          [rate('correo_smtp_refusals_total', 'code'), '{{code}}'],
        ],
      },
      {
        title: 'AUTH attempts per second by outcome',
        unit: 'ops',
        queries: [[rate('correo_logins_total{protocol="smtp"}', 'outcome'), '{{outcome}}']],
      },
      {
        title: 'Sender authentication (SPF, DKIM, DMARC)',
        unit: 'ops',
        queries: [
          [rate('correo_smtp_sender_authentication_total', 'method, result'), '{{method}} {{result}}'],
        ],
      },
      {
        title: 'Accepted bytes per second',
        unit: 'Bps',
        queries: [[rate('correo_smtp_accepted_bytes_total', 'listener'), '{{listener}}']],
      },
    ],
  },
  {
    file: 'imap-pop3.json',
    uid: 'correo-imap-pop3',
    title: 'correo / IMAP and POP3',
    panels: [
      {
        title: 'Connections',
        unit: 'short',
        queries: [
          ['sum by (listener) (correo_imap_active_connections)', 'IMAP open {{listener}}'],
          ['sum by (listener) (correo_pop3_active_connections)', 'POP3 open {{listener}}'],
          [rate('correo_imap_connections_total', 'listener'), 'IMAP new/s {{listener}}'],
          [rate('correo_pop3_connections_total', 'listener'), 'POP3 new/s {{listener}}'],
          ['sum(correo_managesieve_active_connections)', 'ManageSieve open'],
          [rate('correo_managesieve_connections_total'), 'ManageSieve new/s'],
        ],
      },
      {
        title: 'IMAP commands per second',
        unit: 'ops',
        queries: [[rate('correo_imap_commands_total', 'command'), '{{command}}']],
      },
      latencyPanel('IMAP command latency by command', 'correo_imap_command_duration_seconds', 'command'),
      {
        title: 'IDLE sessions',
        unit: 'short',
        queries: [['sum(correo_imap_idle_sessions)', 'IDLE']],
      },
      latencyPanel(
        'Notify fan-out latency (publish to each listening session)',
        'correo_notify_fanout_seconds',
      ),
      {
        title: 'IMAP NO/BAD per second by command',
        unit: 'ops',
        queries: [
          [
            `sum by (command, status) (rate(correo_imap_commands_total{status=~"NO|BAD"}[$__rate_interval]))`,
            '{{command}} {{status}}',
          ],
        ],
      },
      {
        title: 'Logins per second',
        unit: 'ops',
        queries: [
          [
            rate('correo_logins_total{protocol=~"imap|pop3|managesieve"}', 'protocol, outcome'),
            '{{protocol}} {{outcome}}',
          ],
        ],
      },
      {
        title: 'POP3 commands per second',
        unit: 'ops',
        queries: [[rate('correo_pop3_command_duration_seconds_count', 'command'), '{{command}}']],
      },
      latencyPanel('POP3 command latency by command', 'correo_pop3_command_duration_seconds', 'command'),
      {
        title: 'POP3 retrievals and deletions',
        unit: 'ops',
        queries: [
          [rate('correo_pop3_messages_retrieved_total'), 'RETR'],
          [rate('correo_pop3_messages_deleted_total'), 'DELE'],
        ],
      },
      {
        title: 'POP3 bytes retrieved per second',
        unit: 'Bps',
        queries: [[rate('correo_pop3_retrieved_bytes_total'), 'bytes']],
      },
      {
        title: 'ManageSieve commands per second (PUTSCRIPT NO: refused scripts)',
        unit: 'ops',
        queries: [[rate('correo_managesieve_commands_total', 'command, status'), '{{command}} {{status}}']],
      },
    ],
  },
  {
    file: 'relay.json',
    uid: 'correo-relay',
    title: 'correo / relay',
    panels: [
      {
        title: 'Attempts per second',
        unit: 'ops',
        queries: [[rate('correo_relay_attempts_total'), 'attempts']],
      },
      {
        title: 'Recipients by outcome per second',
        unit: 'ops',
        queries: [[rate('correo_relay_recipient_outcomes_total', 'outcome'), '{{outcome}}']],
      },
      {
        title: 'DSNs per second',
        unit: 'ops',
        queries: [
          [rate('correo_relay_dsn_sent_total'), 'sent'],
          [rate('correo_relay_dsn_suppressed_total'), 'suppressed'],
        ],
      },
      {
        title: 'Outbound jobs dead-lettered per second',
        unit: 'ops',
        queries: [[rate('correo_relay_dead_lettered_total'), 'dead-lettered']],
      },
      {
        title: 'Deferred queue',
        unit: 'short',
        queries: [['max(correo_relay_queue_depth)', 'jobs']],
      },
      {
        title: 'Oldest deferred job',
        unit: 's',
        queries: [['max(correo_relay_queue_oldest_age_seconds)', 'age']],
      },
      {
        title: 'Deferred jobs per destination domain (top 20)',
        unit: 'short',
        queries: [['max by (domain) (correo_relay_queue_domain_jobs)', '{{domain}}']],
      },
      {
        title: 'Outbound jobs published by the mda',
        unit: 'ops',
        queries: [[rate('correo_mda_outbound_published_total'), 'published']],
      },
    ],
  },
  {
    file: 'backends.json',
    uid: 'correo-backends',
    title: 'correo / backends',
    panels: [
      {
        title: 'Readiness checks per pod (1 = ok)',
        unit: 'short',
        queries: [['min by (pod, check) (correo_readiness_check)', '{{pod}} {{check}}']],
      },
      {
        title: 'Consumers stalled on a backend',
        unit: 's',
        queries: [
          ['max by (group, topic) (correo_bus_consumer_stalled)', 'stalled {{group}} {{topic}}'],
          ['max by (group, topic) (correo_bus_consumer_stalled_since_seconds)', 'since {{group}} {{topic}}'],
        ],
      },
      {
        title: 'Backend retries per second',
        unit: 'ops',
        queries: [[rate('correo_bus_backend_retries_total', 'group, topic'), '{{group}} {{topic}}']],
      },
      {
        title: 'PostgreSQL pool: connections and waiting queries',
        unit: 'short',
        queries: [['sum by (pod, state) (correo_postgres_pool_clients)', '{{pod}} {{state}}']],
      },
      latencyPanel('S3 request latency by operation', 'correo_s3_request_duration_seconds', 'operation'),
      ...processPanels,
    ],
  },
];

function toGrafana(dashboard: Dashboard): unknown {
  return {
    title: dashboard.title,
    uid: dashboard.uid,
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    tags: ['correo', 'mail'],
    templating: {
      list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }],
    },
    panels: dashboard.panels.map((panel, i) => ({
      type: panel.type ?? 'timeseries',
      title: panel.title,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      targets: panel.queries.map(([expr, legendFormat], q) => ({
        refId: String.fromCharCode(65 + q),
        expr,
        legendFormat,
      })),
    })),
  };
}

/** The JSON of each dashboard file, as it is committed. */
export function dashboardFiles(): Map<string, string> {
  return new Map(dashboards.map((d) => [d.file, `${JSON.stringify(toGrafana(d), null, 2)}\n`]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(DASHBOARD_DIR, { recursive: true });
  for (const [file, json] of dashboardFiles()) writeFileSync(join(DASHBOARD_DIR, file), json);
}
