"""SEARCH HEADER through Python's standard imaplib; prints each search's answer as JSON.

Usage: imaplib_search_header.py PORT USER PASSWORD
Plaintext login (the gateway's loopback allowance). Keys are given the way imaplib users write them;
the UTF-8 search string goes as a literal, imaplib's documented way (IMAP4.literal).
"""
import imaplib
import json
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
imap = imaplib.IMAP4('127.0.0.1', port)
imap.login(user, password)
imap.select('INBOX')


def numbers(typ, data):
    assert typ == 'OK', (typ, data)
    return data[0].decode().split()


out['custom_alpha'] = numbers(*imap.search(None, 'HEADER', 'X-Custom', 'ALPHA'))
out['custom_any'] = numbers(*imap.search(None, 'HEADER', 'x-custom', '""'))
out['not_custom'] = numbers(*imap.search(None, 'NOT', 'HEADER', 'X-Custom', '""'))
out['or_custom_subject'] = numbers(*imap.search(None, 'OR', 'HEADER', 'X-Custom', 'beta', 'SUBJECT', 'three'))
out['folded'] = numbers(*imap.search(None, 'HEADER', 'X-Folded', '"PART SECOND"'))
imap.literal = 'Müller'.encode('utf-8')
out['encoded'] = numbers(*imap.search('UTF-8', 'HEADER', 'X-Encoded'))
out['uid_mailer'] = numbers(*imap.uid('SEARCH', 'HEADER', 'X-Mailer', 'thunderbird'))
out['bcc'] = numbers(*imap.search(None, 'BCC', 'bob@hidden.test'))
imap.logout()
print(json.dumps(out))
