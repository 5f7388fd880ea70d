"""SEARCHRES (RFC 5182) through Python's standard imaplib; prints what each step answered as JSON.

Usage: imaplib_searchres.py PORT USER PASSWORD
Plaintext login (the gateway's loopback allowance). imaplib knows nothing of RETURN (SAVE) or "$", so
they go the way its users send such commands: as plain arguments, through fetch/uid/_simple_command,
with the untagged ESEARCH read from untagged_responses.
"""
import imaplib
import json
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
imap = imaplib.IMAP4('127.0.0.1', port)
imap.login(user, password)
typ, data = imap.capability()
out['searchres_advertised'] = 'SEARCHRES' in data[0].decode().split()


def lines(typ, data):
    assert typ == 'OK', (typ, data)
    return [d.decode() for d in data if d is not None]


def esearch():
    return [d.decode() for d in imap.untagged_responses.pop('ESEARCH', [])]


imap.select('INBOX')
typ, data = imap._simple_command('SEARCH', 'RETURN', '(SAVE)', 'SUBJECT', 'alpha')
out['save'] = {'typ': typ, 'esearch': esearch()}
out['fetch_saved'] = lines(*imap.fetch('$', '(FLAGS)'))
out['store_saved'] = lines(*imap.uid('STORE', '$', '+FLAGS', '(\\Flagged)'))
out['flagged'] = lines(*imap.search(None, 'FLAGGED'))[0].split()

typ, data = imap.uid('SEARCH', 'RETURN', '(SAVE MIN)', 'ALL')
assert typ == 'OK', (typ, data)
out['save_min'] = esearch()[0]
out['fetch_min'] = lines(*imap.fetch('$', '(UID)'))
imap.store('1', '+FLAGS.SILENT', '(\\Deleted)')
out['expunged'] = lines(*imap.expunge())
out['fetch_after_expunge'] = lines(*imap.fetch('$', '(UID)'))

imap._simple_command('SEARCH', 'RETURN', '(SAVE)', 'SUBJECT', 'alpha')
out['fetch_all_saved'] = lines(*imap.fetch('$', '(UID)'))
typ, data = imap._simple_command('UID', 'COPY', '$', 'Archive')
out['copy'] = f'{typ} {data[0].decode()}'

imap.select('Archive')
out['fetch_other_mailbox'] = lines(*imap.fetch('$', '(UID)'))
imap.logout()
print(json.dumps(out))
