"""COMPRESS=DEFLATE (RFC 4978) with Python's imaplib: imaplib has no COMPRESS, so this client adds it
the way the RFC describes, with Python's own zlib (raw deflate both ways, each command flushed with
Z_SYNC_FLUSH). Prints what it saw as JSON.

Usage: imaplib_compress.py MODE PORT USER PASSWORD CAFILE
MODE: plain (login on loopback), starttls, tls (implicit TLS).
"""
import imaplib
import json
import ssl
import sys
import zlib

imaplib.Commands.setdefault('COMPRESS', ('AUTH', 'SELECTED'))


class Compressing:
    """Mixed into IMAP4 / IMAP4_SSL: after COMPRESS, every octet both ways goes through zlib."""

    _deflate = None
    _inflate = None
    _inbuf = b''
    wire_in = 0
    plain_in = 0

    def compress(self):
        typ, data = self._simple_command('COMPRESS', 'DEFLATE')
        if typ == 'OK' and self._deflate is None:
            self._deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
            self._inflate = zlib.decompressobj(-15)
        return typ, data

    def send(self, data):
        if self._deflate is not None:
            data = self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        super().send(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise self.abort('socket closed')
        self.wire_in += len(chunk)
        plain = self._inflate.decompress(chunk)
        self.plain_in += len(plain)
        self._inbuf += plain

    def read(self, size):
        if self._inflate is None:
            return super().read(size)
        while len(self._inbuf) < size:
            self._fill()
        data, self._inbuf = self._inbuf[:size], self._inbuf[size:]
        return data

    def readline(self):
        if self._inflate is None:
            return super().readline()
        while b'\n' not in self._inbuf:
            self._fill()
        end = self._inbuf.index(b'\n') + 1
        line, self._inbuf = self._inbuf[:end], self._inbuf[end:]
        return line


class IMAP(Compressing, imaplib.IMAP4):
    pass


class IMAPS(Compressing, imaplib.IMAP4_SSL):
    pass


mode, port, user, password, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False
if mode == 'tls':
    imap = IMAPS('127.0.0.1', port, ssl_context=context)
else:
    imap = IMAP('127.0.0.1', port)
    if mode == 'starttls':
        imap.starttls(ssl_context=context)
out = {'capabilities_before_login': sorted(imap.capabilities)}
imap.login(user, password)
out['compress'] = imap.compress()[0]
typ, data = imap.capability()
out['capabilities'] = data[0].decode().split()
typ, data = imap.select('INBOX')
out['exists'] = int(data[0])
typ, data = imap.fetch('1', '(BODY.PEEK[])')
out['body'] = data[0][1].decode('utf-8', 'replace')
out['wire_in'] = imap.wire_in
out['plain_in'] = imap.plain_in
typ, data = imap.compress()
out['again'] = typ
out['again_text'] = data[0].decode()
typ, data = imap.append('INBOX', None, None, b'Subject: appended compressed\r\n\r\n' + b'x' * 50000 + b'\r\n')
out['append'] = typ
typ, data = imap.search(None, 'SUBJECT', 'appended')
out['search'] = data[0].decode()
typ, data = imap.logout()
out['logout'] = typ
print(json.dumps(out))
