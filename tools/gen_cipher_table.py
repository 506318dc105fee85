#!/usr/bin/env python3
"""Regenerate the SUITES table in src/session/cipher.rs from the local OpenSSL.

Two independent sources, which must agree:

  1. the CLI: `openssl ciphers -V -stdname -ciphersuites <all TLS 1.3> 'ALL:COMPLEMENTOFALL'`
     -> codepoint, IANA name, OpenSSL name, Enc=...(bits);
  2. libssl itself through ctypes, calling exactly what mod_ssl calls for its
     SSL_CIPHER* variables: SSL_CIPHER_get_name (SSL_CIPHER),
     SSL_CIPHER_get_bits(c, &alg_bits) (SSL_CIPHER_USEKEYSIZE / _ALGKEYSIZE),
     plus SSL_CIPHER_standard_name and SSL_CIPHER_get_protocol_id.

The bits in the table come from SSL_CIPHER_get_bits (the CLI's "Enc=X(n)"
only shows one number, which is alg_bits). The TLS 1.3 suites that are off
by default (CCM, CCM_8) are enabled explicitly so that every suite this
OpenSSL knows is listed.

Usage: python3 tools/gen_cipher_table.py            # rewrite src/session/cipher.rs in place
       python3 tools/gen_cipher_table.py --check    # exit 1 if src/session/cipher.rs is stale
"""
import ctypes
import ctypes.util
import os
import re
import subprocess
import sys

# Every TLS 1.3 suite OpenSSL 3.x implements (ssl/s3_lib.c tls13_ciphers).
TLS13 = ":".join([
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
])
CIPHER_LIST = "ALL:COMPLEMENTOFALL"

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "src", "session", "cipher.rs")
BEGIN = "// BEGIN GENERATED TABLE (tools/gen_cipher_table.py)"
END = "// END GENERATED TABLE"

LINE_RE = re.compile(
    r"^\s*0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2})\s+-\s+(\S+)\s+-\s+(\S+)\s+(\S+)\s+"
    r"Kx=\S+\s+Au=\S+\s+Enc=(\S+)\s+Mac=\S+\s*$"
)


def die(msg):
    sys.stderr.write("gen_table.py: " + msg + "\n")
    sys.exit(2)


def from_cli():
    version = subprocess.run(["openssl", "version"], check=True,
                             capture_output=True, text=True).stdout.strip()
    out = subprocess.run(
        ["openssl", "ciphers", "-V", "-stdname", "-ciphersuites", TLS13, CIPHER_LIST],
        check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        m = LINE_RE.match(line)
        if not m:
            die("cannot parse CLI line: %r" % line)
        hi, lo, iana, ossl, proto, enc = m.groups()
        cid = int(hi, 16) << 8 | int(lo, 16)
        if enc == "None":
            bits = 0
        else:
            b = re.search(r"\((\d+)\)$", enc)
            if not b:
                die("no bits in Enc=%s" % enc)
            bits = int(b.group(1))
        if cid in rows:
            die("CLI lists 0x%04X twice" % cid)
        rows[cid] = dict(iana=iana, openssl=ossl, proto=proto, enc=enc, desc_bits=bits)
    return version, rows


def from_lib():
    ssl = ctypes.CDLL(ctypes.util.find_library("ssl") or "libssl.so.3")
    crypto = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
    vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    crypto.OpenSSL_version.restype = cp
    crypto.OpenSSL_version.argtypes = [ci]
    crypto.OPENSSL_sk_num.restype = ci
    crypto.OPENSSL_sk_num.argtypes = [vp]
    crypto.OPENSSL_sk_value.restype = vp
    crypto.OPENSSL_sk_value.argtypes = [vp, ci]
    ssl.TLS_method.restype = vp
    ssl.SSL_CTX_new.restype = vp
    ssl.SSL_CTX_new.argtypes = [vp]
    ssl.SSL_CTX_set_cipher_list.argtypes = [vp, cp]
    ssl.SSL_CTX_set_ciphersuites.argtypes = [vp, cp]
    ssl.SSL_new.restype = vp
    ssl.SSL_new.argtypes = [vp]
    ssl.SSL_get_ciphers.restype = vp
    ssl.SSL_get_ciphers.argtypes = [vp]
    for f in ("SSL_CIPHER_get_name", "SSL_CIPHER_standard_name"):
        getattr(ssl, f).restype = cp
        getattr(ssl, f).argtypes = [vp]
    ssl.SSL_CIPHER_get_bits.restype = ci
    ssl.SSL_CIPHER_get_bits.argtypes = [vp, ctypes.POINTER(ci)]
    ssl.SSL_CIPHER_get_protocol_id.restype = ctypes.c_uint16
    ssl.SSL_CIPHER_get_protocol_id.argtypes = [vp]
    ssl.SSL_free.argtypes = [vp]
    ssl.SSL_CTX_free.argtypes = [vp]

    version = crypto.OpenSSL_version(0).decode()
    ctx = ssl.SSL_CTX_new(ssl.TLS_method())
    if not ctx:
        die("SSL_CTX_new failed")
    if ssl.SSL_CTX_set_cipher_list(ctx, CIPHER_LIST.encode()) != 1:
        die("SSL_CTX_set_cipher_list failed")
    if ssl.SSL_CTX_set_ciphersuites(ctx, TLS13.encode()) != 1:
        die("SSL_CTX_set_ciphersuites failed")
    s = ssl.SSL_new(ctx)
    sk = ssl.SSL_get_ciphers(s)
    rows = {}
    for i in range(crypto.OPENSSL_sk_num(sk)):
        c = crypto.OPENSSL_sk_value(sk, i)
        alg = ci(0)
        use = ssl.SSL_CIPHER_get_bits(c, ctypes.byref(alg))
        cid = ssl.SSL_CIPHER_get_protocol_id(c)
        rows[cid] = dict(openssl=ssl.SSL_CIPHER_get_name(c).decode(),
                         iana=ssl.SSL_CIPHER_standard_name(c).decode(),
                         use_bits=use, alg_bits=alg.value)
    ssl.SSL_free(s)
    ssl.SSL_CTX_free(ctx)
    return version, rows


def main():
    cli_version, cli = from_cli()
    lib_version, lib = from_lib()
    if not cli_version.startswith(lib_version):
        die("CLI (%s) and libssl (%s) differ" % (cli_version, lib_version))
    if set(cli) != set(lib):
        die("CLI and libssl disagree on the ids: %s" % sorted(set(cli) ^ set(lib)))
    for cid in sorted(cli):
        a, b = cli[cid], lib[cid]
        if (a["iana"], a["openssl"]) != (b["iana"], b["openssl"]):
            die("0x%04X: CLI %s/%s vs libssl %s/%s" % (cid, a["iana"], a["openssl"], b["iana"], b["openssl"]))
        if a["desc_bits"] != b["alg_bits"]:
            die("0x%04X: Enc=%s vs alg_bits %d" % (cid, a["enc"], b["alg_bits"]))

    lines = [
        BEGIN,
        "// Produced by gen_table.py from %s:" % lib_version,
        "//   openssl ciphers -V -stdname -ciphersuites '%s' '%s'" % (TLS13, CIPHER_LIST),
        "// cross-checked against libssl's SSL_CIPHER_get_name / SSL_CIPHER_standard_name /",
        "// SSL_CIPHER_get_bits. %d suites, sorted by codepoint. Do not edit by hand." % len(cli),
        "/// Every suite the OpenSSL build knows, sorted by codepoint.",
        "#[rustfmt::skip]",
        "pub static SUITES: &[Suite] = &[",
    ]
    for cid in sorted(cli):
        r = lib[cid]
        lines.append(
            '    Suite { id: 0x%04X, iana: "%s", openssl: "%s", use_bits: %d, alg_bits: %d }, // %s %s'
            % (cid, r["iana"], r["openssl"], r["use_bits"], r["alg_bits"], cli[cid]["proto"], cli[cid]["enc"]))
    lines += ["];", END]
    table = "\n".join(lines)

    with open(TARGET) as f:
        src = f.read()
    start, stop = src.find(BEGIN), src.find(END)
    if start < 0 or stop < 0:
        die("markers not found in " + TARGET)
    new = src[:start] + table + src[stop + len(END):]
    if "--check" in sys.argv[1:]:
        if new != src:
            sys.stderr.write("src/session/cipher.rs is stale; run tools/gen_cipher_table.py\n")
            sys.exit(1)
        print("up to date (%d suites, %s)" % (len(cli), lib_version))
        return
    with open(TARGET, "w") as f:
        f.write(new)
    print("wrote %d suites (%s)" % (len(cli), lib_version))


if __name__ == "__main__":
    main()
