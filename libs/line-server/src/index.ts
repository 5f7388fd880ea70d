export { startLineServer } from './line-server.js';
export { frontProxyHeaders } from './proxy-front.js';
export type { ProxyFrontOptions } from './proxy-front.js';
export type { LineListener, LineMetrics, LineServer, LineServerOptions } from './line-server.js';
export type { ConnectionTimers } from './line-connection.js';
export { ConnectionClosedError } from './protocol.js';
export { deflateLayer } from './stream-layer.js';
export type { StreamLayer } from './stream-layer.js';
export type {
  Framer,
  GoodbyeReason,
  LineAction,
  LineConnectionIo,
  LineProtocol,
  LineSession,
} from './protocol.js';
export {
  ProxyHeaderError,
  encodeProxyHeader,
  TrustedProxies,
  looksLikeProxyHeader,
  parseProxyHeader,
  readProxyHeader,
} from './proxy-header.js';
export type { ProxiedAddress, ProxyHeaderParse } from './proxy-header.js';
