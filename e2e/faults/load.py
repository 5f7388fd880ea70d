"""The fault run's mail load (e2e/faults/run.ts): SMTP senders and POP3 downloaders in threads.

Reads one JSON request on stdin (see LoadRequest in load.ts) and writes one JSON object a line to
stdout, flushed at once so that the harness sees every 250 even if this process dies:
  {"t": "accepted", "mid", "rcpts", "kind", "sender", "port", "start", "at", "attempts", "ambiguous", "disposable"}
  {"t": "retry", "mid", "reason", "port", "at"}        a 4xx or a connection error, retried as an MTA does
  {"t": "refused", "mid", "code", "text", "at"}        a 5xx: the message is given up (never expected)
  {"t": "pop3", "account", "port", "retrieved": [mid], "deleted": [mid], "at"}   one complete session
  {"t": "pop3-error", "account", "port", "error", "at"}
  {"t": "done", "sender"} / {"t": "pop3-done", "account"}
Senders stop starting messages at `until` (epoch seconds) and give up retrying one at `giveUpAt`.
A message is "ambiguous" when a connection died after its final dot was sent and before the reply
came (RFC 1047): the retry may then be a second copy, which the report counts apart.
"""
import json
import poplib
import random
import smtplib
import socket
import ssl
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from email.parser import BytesHeaderParser

lock = threading.Lock()


def emit(record):
    line = json.dumps(record)
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Ambiguous(Exception):
    """The connection ended between the final dot and its reply."""


def transaction(port, kind, account, sender, rcpts, data, timeout):
    """One SMTP transaction; returns (code, text). Raises Ambiguous or a connection error."""
    client = smtplib.SMTP("127.0.0.1", port, timeout=timeout)
    try:
        client.ehlo("load.faults.test")
        if kind == "submission":
            client.starttls(context=tls_context())
            client.ehlo("load.faults.test")
            client.login(account["address"], account["password"])
        code, text = client.mail(sender)
        if code != 250:
            return code, text
        for rcpt in rcpts:
            code, text = client.rcpt(rcpt)
            if code not in (250, 251):
                return code, text
        code, text = client.docmd("DATA")
        if code != 354:
            return code, text
        client.send(smtplib.quotedata(data.decode("utf-8")).encode("utf-8") + b"\r\n.\r\n")
        try:
            code, text = client.getreply()
        except (OSError, smtplib.SMTPException) as error:
            raise Ambiguous(str(error))
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass
        return code, text
    finally:
        client.close()


def sender_thread(request, index):
    rng = random.Random(f"{request['seed']}-{index}")
    local = request["local"]
    aliases = request["aliases"]
    accounts = request["accounts"]
    remote = request["remote"]
    n = 0
    while time.time() < request["until"]:
        n += 1
        mid = f"<{uuid.UUID(int=rng.getrandbits(128))}@load.faults.test>"
        roll = rng.random()
        disposable = rng.random() < request["disposableShare"]
        account = None
        if roll < 0.40:
            kind, rcpts = "mx", [rng.choice(local)]
        elif roll < 0.55:
            kind, rcpts = "mx", [rng.choice(list(aliases))]
        elif roll < 0.70:
            kind, rcpts = "mx", rng.sample(local, 2)
        elif roll < 0.85:
            kind, rcpts = "submission", [rng.choice(local)]
        else:
            kind, rcpts = "submission", rng.sample(remote, rng.choice([1, 2]))
            disposable = False
        if kind == "submission":
            account = rng.choice(accounts)
            sender = account["address"]
        else:
            sender = f"sender{index}@outside.test"
        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(rcpts)
        message["Subject"] = f"fault run {index}-{n}" + (" [disposable]" if disposable else "")
        message["Message-ID"] = mid
        if disposable:
            message["X-Faults-Disposable"] = "yes"
        # One in twenty is bigger than SMTP_INLINE_BODY_BYTES: its body goes to S3 before the 250.
        lines = rng.randint(4500, 5000) if rng.random() < 0.05 else rng.randint(1, 40)
        message.set_content(f"Message {n} of sender {index}.\n" + "The fault run checks every byte.\n" * lines)
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        ports = request["mx"] if kind == "mx" else request["submission"]
        attempts = 0
        ambiguous = False
        delay = 0.5
        while True:
            attempts += 1
            port = rng.choice(ports)
            start = time.time()
            try:
                code, text = transaction(port, kind, account, sender, rcpts, data, request["timeout"])
                reason = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
            except Ambiguous as error:
                ambiguous = True
                code, reason = None, f"after the final dot: {error}"
            except (OSError, smtplib.SMTPException) as error:
                code, reason = None, f"connection: {type(error).__name__} {error}"
            if code == 250:
                emit({"t": "accepted", "mid": mid, "rcpts": rcpts, "kind": kind, "sender": sender,
                      "port": port, "start": start, "at": time.time(), "attempts": attempts,
                      "ambiguous": ambiguous, "disposable": disposable})
                break
            if code is not None and code >= 500:
                emit({"t": "refused", "mid": mid, "code": code, "text": reason, "at": time.time()})
                break
            emit({"t": "retry", "mid": mid, "reason": reason[:300], "port": port, "at": time.time(),
                  "ambiguous": ambiguous})
            if time.time() > request["giveUpAt"]:
                emit({"t": "gave-up", "mid": mid, "rcpts": rcpts, "ambiguous": ambiguous, "at": time.time()})
                break
            time.sleep(delay)
            delay = min(delay * 2, 4)
        time.sleep(rng.uniform(0, request["pauseSeconds"]))
    emit({"t": "done", "sender": index})


def message_id(lines):
    headers = BytesHeaderParser().parsebytes(b"\r\n".join(lines))
    return (headers.get("Message-ID") or "").strip(), headers.get("X-Faults-Disposable") == "yes"


def pop3_thread(request, account, index):
    rng = random.Random(f"{request['seed']}-pop3-{index}")
    while time.time() < request["giveUpAt"]:
        port = rng.choice(request["pop3"])
        retrieved, deleted = [], []
        try:
            client = poplib.POP3("127.0.0.1", port, timeout=request["timeout"])
            try:
                client.stls(context=tls_context())
                client.user(account["address"])
                client.pass_(account["password"])
                _, listing, _ = client.list()
                for entry in listing:
                    number = int(entry.split()[0])
                    _, lines, _ = client.retr(number)
                    mid, disposable = message_id(lines)
                    retrieved.append(mid)
                    if disposable:
                        client.dele(number)
                        deleted.append(mid)
                client.quit()
                emit({"t": "pop3", "account": account["address"], "port": port, "retrieved": retrieved,
                      "deleted": deleted, "at": time.time()})
            finally:
                client.close()
        except (OSError, poplib.error_proto) as error:
            # DELE takes effect only at QUIT's +OK: a session that failed before it deleted nothing
            # for sure, but the harness still treats these as "maybe deleted".
            emit({"t": "pop3-error", "account": account["address"], "port": port,
                  "error": f"{type(error).__name__} {error}"[:300], "maybeDeleted": deleted, "at": time.time()})
        if time.time() > request["until"] and request.get("stopPop3AtUntil"):
            break
        time.sleep(rng.uniform(0.5, 1.5))
        if time.time() > request["until"] + 5:
            break
    emit({"t": "pop3-done", "account": account["address"]})


def main():
    request = json.load(sys.stdin)
    threads = [threading.Thread(target=sender_thread, args=(request, i)) for i in range(request["senders"])]
    threads += [threading.Thread(target=pop3_thread, args=(request, account, i))
                for i, account in enumerate(request["pop3Accounts"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
