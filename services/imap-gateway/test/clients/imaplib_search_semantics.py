"""SEARCH date and text keys through Python's standard imaplib; prints each answer as JSON.

Usage: imaplib_search_semantics.py PORT USER PASSWORD
Plaintext login (the gateway's loopback allowance); mailboxes Dated and Texts as the test fills them.
"""
import imaplib
import json
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
imap = imaplib.IMAP4('127.0.0.1', port)
imap.login(user, password)


def numbers(typ, data):
    assert typ == 'OK', (typ, data)
    return data[0].decode().split()


imap.select('Dated')
out['senton'] = numbers(*imap.search(None, 'SENTON', '25-Mar-2007'))
out['not_sentbefore_range'] = numbers(*imap.search(None, '2:*', 'NOT', 'SENTBEFORE', '25-Mar-2007'))
out['on'] = numbers(*imap.search(None, 'ON', '26-Mar-2007'))
imap.select('Texts')
out['body_substring'] = numbers(*imap.search(None, 'BODY', 'wertyuio'))
out['text_substring'] = numbers(*imap.search(None, 'TEXT', 'wertyuio'))
imap.logout()
print(json.dumps(out))
