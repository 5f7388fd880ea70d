/**
 * A loopback client (127.0.0.0/8, ::1, or IPv4-mapped 127.x): the only one the embedded
 * default's plaintext AUTH/LOGIN allowance applies to, in every protocol.
 */
export function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip) || /^::ffff:127\./i.test(ip);
}
