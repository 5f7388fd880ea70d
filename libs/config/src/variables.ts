import { isIP } from 'node:net';
import { z } from 'zod';

/*
 * Builders for one environment variable each. Every builder takes the raw string (or undefined when
 * the variable is unset or empty) and carries ONE human message, the "expected" part of a ConfigError
 * line, so an operator reads what to write instead of zod's internal vocabulary.
 */

export function integer(options: { min: number; max: number; default: number }) {
  const expected = `an integer from ${options.min} to ${options.max}`;
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: expected })
    .transform(Number)
    .pipe(z.number().int().min(options.min, { error: expected }).max(options.max, { error: expected }))
    .default(options.default);
}

/** A decimal number (a spam score): "6", "-0.5", "12.75". */
export function decimal(options: { min: number; max: number; default: number }) {
  const expected = `a number from ${options.min} to ${options.max}`;
  return z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, { error: expected })
    .transform(Number)
    .pipe(z.number().min(options.min, { error: expected }).max(options.max, { error: expected }))
    .default(options.default);
}

/** A TCP port; `allowZero` lets the OS pick a free one (useful in tests). */
export function port(options: { default: number; allowZero?: boolean }) {
  return integer({ min: options.allowZero ? 0 : 1, max: 65535, default: options.default });
}

function boolean() {
  return z.stringbool({
    truthy: ['true', '1', 'yes'],
    falsy: ['false', '0', 'no'],
    case: 'insensitive',
    error: 'a boolean: true, false, 1, 0, yes or no',
  });
}

export function flag(defaultValue: boolean) {
  return boolean().default(defaultValue);
}

/** A boolean whose default depends on another variable: undefined when unset. */
export function optionalFlag() {
  return boolean().optional();
}

export function oneOf<const V extends readonly [string, ...string[]]>(values: V) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(values, { error: `one of ${values.join(', ')}` }));
}

/** An absolute URL whose scheme matches one of `schemes`. */
export function url(schemes: readonly [string, ...string[]]) {
  const expected = `a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`;
  return z.url({ protocol: new RegExp(`^(${schemes.join('|')})$`), error: expected });
}

export function text(defaultValue: string) {
  return z.string().trim().default(defaultValue);
}

export function optionalText() {
  return z.string().trim().optional();
}

/**
 * Server settings for the embedded PostgreSQL, `name=value` pairs separated by blanks (a value holds
 * no blank; `shared_preload_libraries=pg_stat_statements,auto_explain` is one pair). Settings that
 * would break the 250 promise (a reply only after the message is durable) are refused (`fsync`,
 * `synchronous_commit`, `full_page_writes`), and so are the ones correo sets itself for its own
 * wiring (listen_addresses, unix_socket_directories, port, track_commit_timestamp).
 */
export const FORBIDDEN_POSTGRES_SETTINGS = [
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'listen_addresses',
  'unix_socket_directories',
  'port',
  'track_commit_timestamp',
] as const;

export function postgresSettings() {
  const expected =
    'blank-separated name=value server settings (e.g. commit_delay=100 commit_siblings=2), none of ' +
    FORBIDDEN_POSTGRES_SETTINGS.join(', ');
  return z
    .string()
    .transform((value) => value.split(/\s+/).filter(Boolean))
    .refine(
      (pairs) =>
        pairs.every((pair) => {
          const match = /^([a-z_][a-z0-9_.]*)=(\S+)$/i.exec(pair);
          return (
            match !== null &&
            !(FORBIDDEN_POSTGRES_SETTINGS as readonly string[]).includes(match[1]!.toLowerCase())
          );
        }),
      { error: expected },
    )
    .transform((pairs) =>
      pairs.map((pair) => {
        const [name, value] = pair.split(/=(.*)/s) as [string, string];
        return { name: name.toLowerCase(), value };
      }),
    )
    .default([]);
}

// host is a DNS name, an IPv4 address or a bracketed IPv6 address; port is required because Kafka has no
// useful default when a cluster listens on several ports.
const brokerPattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

export function hostPortList() {
  const expected = 'a comma-separated list of host:port (e.g. kafka-0:9092,kafka-1:9092)';
  return z
    .string()
    .transform((value) => value.split(',').map((entry) => entry.trim()))
    .refine(
      (entries) =>
        entries.every((entry) => {
          const match = brokerPattern.exec(entry);
          const portNumber = Number(match?.[1]);
          return match !== null && portNumber >= 1 && portNumber <= 65535;
        }),
      { error: expected },
    );
}

/**
 * Resolvers for a node:dns Resolver of a service's own (setServers): IP, IPv4:port or [IPv6]:port, comma
 * separated; unset or empty means the system's resolvers ([]).
 */
export function dnsServerList() {
  return commaList(isDnsServer, 'a comma-separated list of ip, ip:port or [ipv6]:port, e.g. 127.0.0.1:5353');
}

/** Addresses and networks (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`), comma-separated; unset: none. */
export function cidrList() {
  return commaList(
    isCidr,
    'a comma-separated list of IP addresses or CIDR networks, e.g. 10.0.0.0/8,fd00::/8',
  );
}

/** DNS names (`example.com`, `zen.spamhaus.org`), comma-separated, lowercased; unset: none. */
export function domainList() {
  return commaList(
    (entry) =>
      /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(
        entry,
      ),
    'a comma-separated list of DNS names, e.g. example.com,example.org',
  ).transform((entries) => entries.map((entry) => entry.toLowerCase()));
}

/** Comma-separated entries, blanks around them ignored, each checked; unset or empty means []. */
function commaList(valid: (entry: string) => boolean, expected: string) {
  return z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    )
    .refine((entries) => entries.every(valid), { error: expected })
    .default([]);
}

function isCidr(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function isDnsServer(entry: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  if (bracketed) return isIP(bracketed[1]!) === 6 && validPort(bracketed[2]);
  if (isIP(entry) !== 0) return true;
  const withPort = /^([^:]+):(\d{1,5})$/.exec(entry);
  return withPort !== null && isIP(withPort[1]!) === 4 && validPort(withPort[2]);
}

function validPort(value: string | undefined): boolean {
  return value === undefined || (Number(value) >= 1 && Number(value) <= 65535);
}
