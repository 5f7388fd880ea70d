import { cidrList, defineSection, flag, integer, optionalText, port, text } from '@correo/config';

/**
 * The webmail's own variables. It is an MUA: it reaches the mail only through the IMAP gateway and
 * submission, with the signed-in user's own credentials, so its only addresses are those two.
 */
export const webmailSection = defineSection({
  variables: {
    WEBMAIL_HOST: text('0.0.0.0'),
    WEBMAIL_PORT: port({ default: 8081, allowZero: true }),
    WEBMAIL_IMAP_HOST: text('imap-gateway'),
    WEBMAIL_IMAP_PORT: port({ default: 143 }),
    WEBMAIL_SUBMISSION_HOST: text('smtp-ingress'),
    WEBMAIL_SUBMISSION_PORT: port({ default: 587 }),
    // ManageSieve (RFC 5804, STARTTLS like the others) for the rules and vacation views.
    WEBMAIL_MANAGESIEVE_HOST: text('managesieve'),
    WEBMAIL_MANAGESIEVE_PORT: port({ default: 4190 }),
    // A PEM file of certificates to trust for the gateways' STARTTLS, beside the system's CAs
    // (a private CA, or the self-signed certificate of a test setup).
    WEBMAIL_TLS_CA_FILE: optionalText(),
    // The name the gateways' certificate is checked against; unset: the host connected to.
    WEBMAIL_TLS_SERVERNAME: optionalText(),
    // A session nobody used for this long is ended (its IMAP connection logged out).
    WEBMAIL_SESSION_IDLE_SECONDS: integer({ min: 10, max: 7 * 24 * 3600, default: 1800 }),
    // Off only for plain-HTTP try-outs on loopback (make dev); a browser drops Secure cookies over http
    // on any other host.
    WEBMAIL_SECURE_COOKIE: flag(true),
    // The origin browsers load the webmail from (https://mail.example.com) when a proxy in front
    // rewrites Host; unset: state changes must come from the origin of the request's own Host.
    WEBMAIL_PUBLIC_ORIGIN: optionalText(),
    // The submission server's message size limit (smtp-ingress's SMTP_MAX_MESSAGE_BYTES): an attachment
    // upload or a message above it is refused at once with 413 instead of after the upload.
    WEBMAIL_SUBMISSION_MAX_BYTES: integer({ min: 1024, max: 2 ** 31, default: 50 * 1024 * 1024 }),
    // Open every IMAP and submission connection with a PROXY v2 header naming the browser, so the
    // gateways' per-IP caps and login lockout count browsers, not the webmail. The gateways must then
    // list the webmail's address in PROXY_TRUSTED_CIDRS.
    WEBMAIL_PROXY_PROTOCOL: flag(false),
    // The local address the webmail connects to the gateways from (the one in PROXY_TRUSTED_CIDRS).
    WEBMAIL_SOURCE_ADDRESS: optionalText(),
    // Reverse proxies in front of the webmail whose X-Forwarded-For names the browser; from anyone
    // else the header is ignored and the socket's peer is the browser.
    WEBMAIL_TRUSTED_PROXIES: cidrList(),
    // Our MX's authserv-id (its SMTP_HOSTNAME): only its Authentication-Results are summarised.
    WEBMAIL_AUTHSERV_ID: optionalText(),
  },
  build: (vars) => ({
    host: vars.WEBMAIL_HOST,
    port: vars.WEBMAIL_PORT,
    imap: { host: vars.WEBMAIL_IMAP_HOST, port: vars.WEBMAIL_IMAP_PORT },
    submission: { host: vars.WEBMAIL_SUBMISSION_HOST, port: vars.WEBMAIL_SUBMISSION_PORT },
    managesieve: { host: vars.WEBMAIL_MANAGESIEVE_HOST, port: vars.WEBMAIL_MANAGESIEVE_PORT },
    tlsCaFile: vars.WEBMAIL_TLS_CA_FILE,
    tlsServername: vars.WEBMAIL_TLS_SERVERNAME,
    sessionIdleMs: vars.WEBMAIL_SESSION_IDLE_SECONDS * 1000,
    secureCookie: vars.WEBMAIL_SECURE_COOKIE,
    publicOrigin: vars.WEBMAIL_PUBLIC_ORIGIN,
    maxMessageBytes: vars.WEBMAIL_SUBMISSION_MAX_BYTES,
    proxyProtocol: vars.WEBMAIL_PROXY_PROTOCOL,
    sourceAddress: vars.WEBMAIL_SOURCE_ADDRESS,
    trustedProxies: vars.WEBMAIL_TRUSTED_PROXIES,
    authservId: vars.WEBMAIL_AUTHSERV_ID,
  }),
});

export type WebmailConfig = ReturnType<typeof webmailSection.build>;
