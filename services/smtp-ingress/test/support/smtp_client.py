"""smtplib driven by a JSON request on stdin; prints {"replies": [[code, text], ...], "error"?: str}."""
import json
import smtplib
import ssl
import sys


def main() -> None:
    request = json.load(sys.stdin)
    context = None
    if request.get("cafile"):
        context = ssl.create_default_context(cafile=request["cafile"])
        context.check_hostname = False
    replies = []
    result = {"replies": replies}

    def record(reply) -> None:
        code, text = reply
        replies.append([code, text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)])

    if request["mode"] == "ssl":
        client = smtplib.SMTP_SSL(request["host"], request["port"], context=context, timeout=60)
    else:
        client = smtplib.SMTP(request["host"], request["port"], timeout=60)
    try:
        client.ehlo("python.client.test")
        if request["mode"] == "starttls":
            record(client.starttls(context=context))
            client.ehlo("python.client.test")
        if request.get("user"):
            record(client.login(request["user"], request["password"]))
        if "send" in request:
            send = request["send"]
            record(client.mail(send["from"]))
            for recipient in send["to"]:
                record(client.rcpt(recipient))
            record(client.data(send["message"].encode("utf-8")))
        for command in request.get("commands", []):
            record(client.docmd(command))
    except smtplib.SMTPResponseException as error:
        record((error.smtp_code, error.smtp_error))
    except (smtplib.SMTPException, OSError) as error:
        result["error"] = repr(error)
    finally:
        try:
            client.quit()
        except Exception:
            client.close()
    print(json.dumps(result))


main()
