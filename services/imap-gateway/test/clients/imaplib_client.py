"""Drives correo's IMAP gateway with Python's standard imaplib and prints what it saw as JSON.

Usage: imaplib_client.py PORT USER PASSWORD CAFILE
Plain connection upgraded with STARTTLS (the certificate verified against CAFILE), then the usual
session of a simple client: select, search, fetch, store, copy, expunge, append.
"""
import imaplib
import json
import ssl
import sys

port, user, password, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False
imap = imaplib.IMAP4('127.0.0.1', port)
out['capabilities_before'] = list(imap.capabilities)
imap.starttls(ssl_context=context)
typ, _ = imap.login(user, password)
out['login'] = typ
typ, data = imap.select('INBOX')
out['exists'] = int(data[0])
# imaplib keeps the SELECT's untagged RECENT; this session is the first to see the messages.
out['recent'] = [d.decode() for d in imap.response('RECENT')[1]]
typ, data = imap.search(None, 'NEW')
out['search_new'] = data[0].decode().split()
typ, data = imap.search(None, 'SUBJECT', 'invoice')
out['search_invoice'] = data[0].decode().split()
typ, data = imap.uid('SEARCH', None, 'ALL')
out['uids'] = data[0].decode().split()
typ, data = imap.fetch('1', '(RFC822)')
out['rfc822'] = data[0][1].decode('utf-8', 'replace')
typ, data = imap.fetch('1', '(FLAGS)')
out['flags_after_fetch'] = data[0].decode()
typ, data = imap.store('2', '+FLAGS', '\\Flagged')
out['store'] = data[0].decode()
typ, data = imap.uid('COPY', out['uids'][-1], 'Archive')
out['copy'] = typ
out['copy_code'] = imap.untagged_responses.get('COPYUID', [b''])[0].decode() if 'COPYUID' in imap.untagged_responses else None
typ, data = imap.store('1', '+FLAGS', '\\Deleted')
typ, data = imap.expunge()
out['expunged'] = [d.decode() for d in data if d]
message = b'From: py@example.test\r\nSubject: from imaplib\r\n\r\nappended by python\r\n'
typ, data = imap.append('INBOX', '(\\Seen)', None, message)
out['append'] = data[0].decode()
typ, data = imap.noop()
typ, data = imap.status('INBOX', '(MESSAGES UIDNEXT)')
out['status'] = data[0].decode()
typ, data = imap.list()
out['list'] = [d.decode() for d in data]
imap.close()
imap.logout()
print(json.dumps(out))
