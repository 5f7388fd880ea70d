"""poplib logging in one way, over plaintext on loopback (the embedded allowance).

argv: port way user password, where way is USER (USER/PASS), PLAIN or LOGIN (AUTH, RFC 5034).
Prints JSON: the server's last answer, or poplib's error text.
"""
import base64
import json
import poplib
import sys

port, way, user, password = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
b64 = lambda text: base64.b64encode(text.encode()).decode()

client = poplib.POP3("127.0.0.1", int(port))
try:
    if way == "USER":
        client.user(user)
        answer = client.pass_(password)
    elif way == "PLAIN":
        answer = client._shortcmd("AUTH PLAIN " + b64(f"\0{user}\0{password}"))
    else:
        assert client._shortcmd("AUTH LOGIN") == b"+ " + b64("Username:").encode()
        assert client._shortcmd(b64(user)) == b"+ " + b64("Password:").encode()
        answer = client._shortcmd(b64(password))
    result = {"answer": answer.decode()}
except poplib.error_proto as error:
    result = {"error": error.args[0].decode()}
finally:
    try:
        client.quit()
    except Exception:
        pass
print(json.dumps(result))
