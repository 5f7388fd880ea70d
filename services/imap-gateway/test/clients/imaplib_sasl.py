"""imaplib's AUTHENTICATE with one mechanism, over plaintext on loopback (the embedded allowance).

argv: port mechanism user password [authzid]. Prints JSON: the tagged answer, or imaplib's error.
"""
import imaplib
import json
import sys

port, mechanism, user, password = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
authzid = sys.argv[5] if len(sys.argv) > 5 else ""


def answer(challenge):
    # imaplib hands over the decoded challenge and base64-encodes what is returned.
    if mechanism == "PLAIN":
        return f"{authzid}\0{user}\0{password}".encode()
    return {b"Username:": user, b"Password:": password}[challenge].encode()


client = imaplib.IMAP4("127.0.0.1", int(port))
try:
    typ, data = client.authenticate(mechanism, answer)
    result = {"status": typ, "text": data[0].decode(), "state": client.state}
except imaplib.IMAP4.error as error:
    result = {"error": str(error)}
finally:
    try:
        client.logout()
    except Exception:
        pass
print(json.dumps(result))
