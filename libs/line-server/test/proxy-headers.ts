import { encodeProxyHeader } from '../src/index.js';

const listener = { address: '127.0.0.1', port: 143 };
const listener6 = { address: '::1', port: 143 };

export const proxyV2 = (address: string, port: number): Buffer =>
  encodeProxyHeader(2, { address, port }, address.includes(':') ? listener6 : listener);

export const proxyV1 = (address: string, port: number): Buffer =>
  encodeProxyHeader(1, { address, port }, address.includes(':') ? listener6 : listener);
