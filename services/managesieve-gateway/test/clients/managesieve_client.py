"""Python's managesieve client (PyPI managesieve 0.8.1) through a whole session over STARTTLS.

argv: port user password script. The CA is SSL_CERT_FILE (Python's default context reads it).
Prints JSON: what each step answered.
"""
import json
import sys

import managesieve

port, user, password, script = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
broken = script.replace(";", "", 1)
result = {}

plain = managesieve.MANAGESIEVE("localhost", int(port))
result["mechs_before_tls"] = plain.loginmechs
result["starttls_offered"] = bool(plain.supports_tls)
plain.logout()

client = managesieve.MANAGESIEVE("localhost", int(port), use_tls=True)
result["mechs_after_tls"] = client.loginmechs
result["sieve"] = client.capabilities
result["implementation"] = client.implementation
result["wrong_password"] = client.authenticate("PLAIN", user, "wrong")
result["login"] = client.authenticate("PLAIN", user, password)
result["havespace"] = client.havespace("python", len(script))
result["put"] = client.putscript("python", script)
result["put_broken"] = [client.putscript("broken", broken), client.response_text.decode() if isinstance(client.response_text, bytes) else client.response_text]
result["put_other"] = client.putscript("other", "keep;\n")
result["setactive"] = client.setactive("python")
typ, scripts = client.listscripts()
result["list"] = [typ, scripts]
typ, content = client.getscript("python")
result["get"] = [typ, content]
result["delete_active"] = [client.deletescript("python"), client.response_code.decode() if isinstance(client.response_code, bytes) else client.response_code]
result["delete_other"] = client.deletescript("other")
result["get_missing"] = [client.getscript("other")[0], client.response_code.decode() if isinstance(client.response_code, bytes) else client.response_code]
result["unauthenticate"] = client.unauthenticate()
result["logout"] = client.logout()
print(json.dumps(result))
