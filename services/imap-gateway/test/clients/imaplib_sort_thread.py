"""SORT and THREAD through Python's standard imaplib (IMAP4.sort, IMAP4.thread); prints JSON.

Usage: imaplib_sort_thread.py PORT USER PASSWORD
Plaintext login (the gateway's loopback allowance); INBOX as sort-thread.test.ts fills it.
"""
import imaplib
import json
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
imap = imaplib.IMAP4('127.0.0.1', port)
imap.login(user, password)
imap.select('INBOX')


def ok(typ, data):
    assert typ == 'OK', (typ, data)
    return data[0].decode()


out['sort_date'] = ok(*imap.sort('(DATE)', 'UTF-8', 'ALL')).split()
out['sort_display_from'] = ok(*imap.sort('(DISPLAYFROM)', 'UTF-8', 'ALL')).split()
out['uid_sort_subject'] = ok(*imap.uid('SORT', '(SUBJECT)', 'UTF-8', 'ALL')).split()
out['thread_references'] = ok(*imap.thread('REFERENCES', 'UTF-8', 'ALL'))
out['thread_orderedsubject'] = ok(*imap.thread('ORDEREDSUBJECT', 'UTF-8', 'ALL'))
imap.logout()
print(json.dumps(out))
