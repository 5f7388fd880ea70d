"""Drives correo's POP3 gateway with Python's standard poplib and prints what it saw as JSON.

usage: poplib_client.py MODE HOST PORT USER PASSWORD CAFILE
  stls-user      plain connection, STLS (certificate verified against CAFILE), USER/PASS, read all, DELE 1, QUIT
  stls-auth      plain connection, STLS, AUTH PLAIN answered after the "+ " continuation, read all, QUIT
  pop3s-plain    implicit TLS, AUTH PLAIN with initial response, read all, QUIT
  plaintext      plain connection, USER/PASS without TLS (expected to be refused outside loopback allowance)
"""
import base64
import json
import poplib
import ssl
import sys

mode, host, port, user, password, cafile = sys.argv[1:7]
port = int(port)
context = ssl.create_default_context(cafile=cafile)
result = {}


def read_all(pop):
    count, octets = pop.stat()
    result["stat"] = [count, octets]
    result["list"] = [line.decode() for line in pop.list()[1]]
    result["uidl"] = [line.decode() for line in pop.uidl()[1]]
    result["capa"] = sorted(pop.capa().keys())
    messages = []
    for n in range(1, count + 1):
        reply, lines, size = pop.retr(n)
        messages.append({"reply": reply.decode(), "text": b"\r\n".join(lines).decode("utf-8", "replace")})
    result["messages"] = messages
    if count:
        result["top"] = [line.decode() for line in pop.top(1, 0)[1]]


try:
    if mode == "stls-user":
        pop = poplib.POP3(host, port, timeout=20)
        result["capa_before"] = sorted(pop.capa().keys())
        pop.stls(context)
        pop.user(user)
        result["login"] = pop.pass_(password).decode()
        read_all(pop)
        result["dele"] = pop.dele(1).decode()
        result["quit"] = pop.quit().decode()
    elif mode == "stls-auth":
        pop = poplib.POP3(host, port, timeout=20)
        pop.stls(context)
        pop._putcmd("AUTH PLAIN")
        result["continuation"] = pop._getresp().decode()
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        result["login"] = pop._shortcmd(token).decode()
        read_all(pop)
        result["quit"] = pop.quit().decode()
    elif mode == "pop3s-plain":
        pop = poplib.POP3_SSL(host, port, context=context, timeout=20)
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        result["login"] = pop._shortcmd(f"AUTH PLAIN {token}").decode()
        read_all(pop)
        result["quit"] = pop.quit().decode()
    elif mode == "plaintext":
        pop = poplib.POP3(host, port, timeout=20)
        result["capa_before"] = sorted(pop.capa().keys())
        try:
            pop.user(user)
            result["login"] = pop.pass_(password).decode()
        except poplib.error_proto as error:
            result["error"] = error.args[0].decode()
        pop.quit()
    else:
        raise SystemExit(f"unknown mode {mode}")
except poplib.error_proto as error:
    result["error"] = error.args[0].decode()

print(json.dumps(result))
