#!/usr/bin/python3
"""A real SMTP server for the io_mail tests (aiosmtpd, Debian's python3-aiosmtpd).

Listens on 127.0.0.1 with an ephemeral port and prints "PORT <n>" once it accepts
connections. Every message it accepts is written to --dir as msg-<n>.*:

  .eml       the raw DATA content as received (after dot-unstuffing)
  .envelope  "mail_from: ...", one "rcpt_to: ..." per recipient, "tls: yes|no",
             "auth: <mechanism> <login>" or "auth: none"
  .subject   the Subject header decoded by Python's email package (UTF-8)
  .body      the text body decoded by Python's email package (transfer encoding undone)
  .done      written last: the other files are complete

Options: --tls-cert/--tls-key offer STARTTLS (with --implicit-tls: TLS from the first
byte, as for smtps://); --auth USER:PASSWORD requires AUTH (only after STARTTLS);
--auth-mechanism limits the AUTH mechanisms offered (PLAIN, LOGIN); --reject-rcpt ADDR
answers 550 to RCPT TO:<ADDR>. The process exits when its parent
goes away or after --lifetime seconds (600), so a crashed test leaves no server behind.
"""

import argparse
import asyncio
import email
import email.policy
import os
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

MECHANISMS = ("PLAIN", "LOGIN")


class Sink:
    def __init__(self, out_dir, reject):
        self.out_dir = out_dir
        self.reject = set(a.lower() for a in reject)
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.out_dir, f"msg-{self.count}")
        raw = envelope.original_content
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        auth = session.auth_data if session.authenticated else None
        with open(base + ".envelope", "w", encoding="utf-8") as f:
            f.write(f"mail_from: {envelope.mail_from}\n")
            for rcpt in envelope.rcpt_tos:
                f.write(f"rcpt_to: {rcpt}\n")
            tls = (session.ssl is not None
                   or server.transport.get_extra_info("ssl_object") is not None)
            f.write(f"tls: {'yes' if tls else 'no'}\n")
            f.write(f"auth: {auth[0] + ' ' + auth[1] if auth else 'none'}\n")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        with open(base + ".subject", "w", encoding="utf-8") as f:
            f.write(str(msg["subject"]))
        with open(base + ".body", "wb") as f:
            f.write(msg.get_payload(decode=True) or b"")
        with open(base + ".done", "w") as f:
            f.write("ok\n")
        return "250 Message accepted for delivery"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()):
            return AuthResult(success=True, auth_data=(mechanism, user))
        return AuthResult(success=False, handled=False)
    return authenticate


async def exit_with_parent(parent, lifetime):
    deadline = asyncio.get_running_loop().time() + lifetime
    while os.getppid() == parent and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    os._exit(0)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--auth-mechanism", action="append", default=[])
    p.add_argument("--reject-rcpt", action="append", default=[])
    p.add_argument("--lifetime", type=float, default=600)
    args = p.parse_args()

    loop = asyncio.get_running_loop()
    parent = os.getppid()
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    kwargs = {"hostname": "sink.test", "loop": loop}
    if not args.implicit_tls:
        kwargs["tls_context"] = tls
    if args.auth:
        user, _, password = args.auth.partition(":")
        # aiosmtpd only counts STARTTLS as TLS; on implicit TLS every command is encrypted.
        kwargs.update(auth_required=True, auth_require_tls=not args.implicit_tls,
                      authenticator=make_authenticator(user, password))
        if args.auth_mechanism:
            kwargs["auth_exclude_mechanism"] = [
                m for m in MECHANISMS if m not in args.auth_mechanism]
    handler = Sink(args.dir, args.reject_rcpt)
    server = await loop.create_server(lambda: SMTP(handler, **kwargs), "127.0.0.1", 0,
                                      ssl=tls if args.implicit_tls else None)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await exit_with_parent(parent, args.lifetime)


if __name__ == "__main__":
    asyncio.run(main())
