// Wiring only: config -> adapters -> startSmtpIngress. The schema is migrated beforehand (libs/store migrate CLI).
// First: sizes libuv's thread pool before anything starts it (fsyncs in parallel).
import '@correo/runtime/threadpool';
import { openBackends, requireDatabaseUrl } from '@correo/backends';
import { createMailPathDirectory } from '@correo/directory';
import { retryUntilDone, runService } from '@correo/runtime';
import { loadTlsMaterial, reloadTlsOnRenewal } from '@correo/tls';
import { smtpIngressSection } from './config.js';
import { createDecisionWriter } from './decisions.js';
import { startSmtpIngress } from './ingress.js';
import { MAIL_ACCEPTED_TOPIC } from './message-intake.js';

await runService({
  name: 'smtp-ingress',
  sections: { smtp: smtpIngressSection },
  async start({ config, logger, signal, addChecks, progress }) {
    const backends = openBackends(config, requireDatabaseUrl(config), logger, ['bus', 'blobs', 'limits']);
    addChecks(backends.checks);
    const tlsOptions = {
      certFile: config.smtp.tls.certFile,
      keyFile: config.smtp.tls.keyFile,
      dataDir: config.dataDir,
      hostname: config.smtp.hostname,
    };
    const tls = await loadTlsMaterial(tlsOptions);
    progress('starting: creating bus topics');
    await retryUntilDone(
      'bus topic creation',
      () =>
        backends.bus.ensureTopics([
          { name: MAIL_ACCEPTED_TOPIC, partitions: config.bus.kafka.topicPartitions },
        ]),
      logger,
      signal,
    );
    const directory = createMailPathDirectory(backends.pool, config.directory, (error) =>
      logger.warn({ error: error.message }, 'directory change notifications lost: not caching'),
    );
    const ingress = await startSmtpIngress({
      config: config.smtp,
      bus: backends.bus,
      blobs: backends.blobs,
      directory,
      limits: backends.limits,
      logger,
      tls,
      trustedProxies: config.proxy.trustedCidrs,
      leaseTiming: config.limits.leases,
      outboundLimits: config.limits.outbound,
      decisions: createDecisionWriter(backends.pool, logger),
    });
    const certificateWatch = reloadTlsOnRenewal(tlsOptions, tls, [ingress], logger);
    const host = config.smtp.bindHost;
    return {
      listeners: [
        { name: 'SMTP MX', address: `${host}:${ingress.ports.mx}` },
        { name: 'SMTP submission (STARTTLS)', address: `${host}:${ingress.ports.submission}` },
        { name: 'SMTP submission (implicit TLS)', address: `${host}:${ingress.ports.submissions}` },
      ],
      async close() {
        certificateWatch.close();
        await ingress.close();
        await directory.close();
        await backends.close();
      },
    };
  },
});
