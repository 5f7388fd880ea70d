import { readFile } from 'node:fs/promises';
import type { AutoconfigRouteOptions } from '@correo/autoconfig';
import type { ImageSenderList } from '@correo/store';
import type { Logger } from 'pino';
import { buildWebmail } from './app.js';
import type { WebmailConfig } from './config.js';
import type { Gateways } from './gateways.js';
import type { UserSettingsStore } from './user-settings.js';

export interface RunningWebmail {
  url: string;
  /** Signed-in sessions held (each with its IMAP connection). */
  sessionCount(): number;
  close(): Promise<void>;
}

/**
 * Listens on the configured address. `gateways` overrides where IMAP and submission are (the
 * all-in-one passes its own listeners and certificate); otherwise they come from the config.
 */
export async function startWebmail(options: {
  config: WebmailConfig;
  logger: Logger;
  gateways?: Gateways;
  assetsDir?: string;
  autoconfig?: AutoconfigRouteOptions;
  /** Per-user settings (routes/settings.ts); the all-in-one and main.ts make it over the database. */
  settings?: UserSettingsStore;
  /** Overrides WEBMAIL_SUBMISSION_MAX_BYTES (the all-in-one passes its own submission's limit). */
  maxMessageBytes?: number;
  /** Where "always show images from this sender" is kept (the all-in-one: its database). */
  imageSenders?: ImageSenderList;
}): Promise<RunningWebmail> {
  const { config, logger } = options;
  const gateways: Gateways = options.gateways ?? {
    imap: config.imap,
    submission: config.submission,
    managesieve: config.managesieve,
    tls: {
      ...(config.tlsCaFile ? { ca: await readFile(config.tlsCaFile, 'utf8') } : {}),
      ...(config.tlsServername ? { servername: config.tlsServername } : {}),
    },
  };
  gateways.proxyProtocol = config.proxyProtocol;
  if (config.sourceAddress) gateways.sourceAddress = config.sourceAddress;
  const { app, sessions } = await buildWebmail({
    gateways,
    logger,
    sessionIdleMs: config.sessionIdleMs,
    secureCookie: config.secureCookie,
    publicOrigin: config.publicOrigin,
    trustedProxies: config.trustedProxies,
    authservId: config.authservId,
    ...(options.imageSenders ? { imageSenders: options.imageSenders } : {}),
    ...(options.assetsDir ? { assetsDir: options.assetsDir } : {}),
    ...(options.autoconfig ? { autoconfig: options.autoconfig } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    maxMessageBytes: options.maxMessageBytes ?? config.maxMessageBytes,
  });
  await app.listen({ host: config.host, port: config.port });
  const { port } = app.server.address() as { port: number };
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    sessionCount: () => sessions.size,
    close: () => app.close(),
  };
}
