#!/usr/bin/env python3
"""Generate tests/openssl-oracle/openssl_oracle.json.

Builds edge-case certificates with a tiny DER writer (no signing: neither OpenSSL's
d2i nor the Rust module checks signatures), then asks the system libcrypto (OpenSSL
3.0.x, through ctypes) for the strings mod_ssl would export, reproducing mod_ssl's
own glue (ssl_engine_vars.c / ssl_util_ssl.c of httpd 2.4) around the OpenSSL calls.

Run:  python3 tests/openssl-oracle/gen_oracle.py > tests/openssl-oracle/openssl_oracle.json
"""
import base64, ctypes, ctypes.util, json, sys

# ---------------------------------------------------------------- DER writer
def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b

def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content

def seq(*items): return tlv(0x30, b''.join(items))
def set_(*items): return tlv(0x31, b''.join(items))
def ctx(n, content, constructed=True): return tlv((0xa0 if constructed else 0x80) | n, content)

def oid_content(dotted):
    arcs = [int(x) for x in dotted.split('.')]
    vals = [arcs[0] * 40 + arcs[1]] + arcs[2:]
    out = b''
    for v in vals:
        chunk = [v & 0x7f]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(chunk))
    return out

def oid(dotted): return tlv(0x06, oid_content(dotted))
def integer_raw(b): return tlv(0x02, b)
def integer(n):
    if n == 0:
        return integer_raw(b'\x00')
    length = (n.bit_length() + 8) // 8 if n > 0 else ((-n - 1).bit_length() + 8) // 8
    return integer_raw(n.to_bytes(length, 'big', signed=True))
def utf8(s): return tlv(0x0c, s.encode() if isinstance(s, str) else s)
def printable(s): return tlv(0x13, s.encode())
def ia5(s): return tlv(0x16, s if isinstance(s, bytes) else s.encode())
def t61(b): return tlv(0x14, b)
def bmp(s): return tlv(0x1e, s.encode('utf-16-be') if isinstance(s, str) else s)
def univ(s): return tlv(0x1c, s.encode('utf-32-be'))
def visible(s): return tlv(0x1a, s if isinstance(s, bytes) else s.encode())
def octets(b): return tlv(0x04, b)
def bitstring(b, unused=0): return tlv(0x03, bytes([unused]) + b)
def boolean(v): return tlv(0x01, bytes([v]))
NULL = b'\x05\x00'

def alg(dotted, params=NULL): return seq(oid(dotted), params)
def atv(dotted, value): return seq(oid(dotted), value)
def name(*rdns):
    """each rdn: list of (oid, encoded value) or a single tuple"""
    out = []
    for r in rdns:
        if isinstance(r, tuple):
            r = [r]
        out.append(set_(*[atv(o, v) for o, v in r]))
    return seq(*out)

CN, O, OU, C, ST, L, EMAIL, UID = '2.5.4.3', '2.5.4.10', '2.5.4.11', '2.5.4.6', '2.5.4.8', '2.5.4.7', '1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.1'
T, I, G, S, D, DC, SERIALNUMBER = '2.5.4.12', '2.5.4.43', '2.5.4.42', '2.5.4.4', '2.5.4.13', '0.9.2342.19200300.100.1.25', '2.5.4.5'

def utctime(s): return tlv(0x17, s.encode())
def gentime(s): return tlv(0x18, s.encode())

def ext(dotted, value, critical=False):
    return seq(oid(dotted), *( [boolean(0xff)] if critical else [] ), octets(value))

# A real RSA SubjectPublicKeyInfo (taken from the reference alice.crt at run time).
def read_tlv(b, i=0):
    tag = b[i]; l = b[i + 1]; j = i + 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[j:j + n], 'big'); j += n
    return tag, b[j:j + l], j + l, i

def spki_from(cert_der):
    _, cert, _, _ = read_tlv(cert_der)
    _, tbs, _, _ = read_tlv(cert)
    items = []
    i = 0
    while i < len(tbs):
        tag, content, end, start = read_tlv(tbs, i)
        items.append(tbs[start:end]); i = end
    off = 1 if items[0][0] == 0xa0 else 0
    return items[off + 5]

REF = '/work/shared/apache-2.4.71/certs/'
def pem_der(path):
    text = open(path).read()
    body = text.split('-----BEGIN CERTIFICATE-----')[1].split('-----END CERTIFICATE-----')[0]
    return base64.b64decode(''.join(body.split()))
RSA_SPKI = spki_from(pem_der(REF + 'alice.crt'))
EC_SPKI = spki_from(pem_der(REF + 'bob.crt'))

SHA256RSA = '1.2.840.113549.1.1.11'
DEFAULT_ISSUER = name((C, printable('US')), (O, utf8('Oracle Test PKI')), (CN, utf8('Test CA')))
DEFAULT_SUBJECT = name((CN, utf8('leaf')))

def cert(serial=integer(0x1001), issuer=DEFAULT_ISSUER, subject=DEFAULT_SUBJECT,
         not_before=utctime('261124164329Z'), not_after=utctime('271125164329Z'),
         exts=None, sig=SHA256RSA, sig_params=NULL, spki=RSA_SPKI, version=2):
    parts = []
    if version is not None:
        parts.append(ctx(0, integer(version)))
    parts += [serial, alg(sig, sig_params), issuer, seq(not_before, not_after), subject, spki]
    if exts:
        parts.append(ctx(3, seq(*exts)))
    tbs = seq(*parts)
    return seq(tbs, alg(sig, sig_params), bitstring(b'\x00' * 16))

# ---------------------------------------------------------------- libcrypto
lib = ctypes.CDLL(ctypes.util.find_library('crypto') or 'libcrypto.so.3')
vp, cp, ip, lg = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_long
def fn(name, res, *args):
    f = getattr(lib, name); f.restype = res; f.argtypes = list(args); return f
OpenSSL_version = fn('OpenSSL_version', cp, ip)
d2i_X509 = fn('d2i_X509', vp, vp, ctypes.POINTER(ctypes.c_char_p), lg)
X509_free = fn('X509_free', None, vp)
X509_get_version = fn('X509_get_version', lg, vp)
BIO_s_mem = fn('BIO_s_mem', vp)
BIO_new = fn('BIO_new', vp, vp)
BIO_free = fn('BIO_free', ip, vp)
BIO_read = fn('BIO_read', ip, vp, vp, ip)
BIO_ctrl = fn('BIO_ctrl', lg, vp, ip, lg, vp)
X509_get_subject_name = fn('X509_get_subject_name', vp, vp)
X509_get_issuer_name = fn('X509_get_issuer_name', vp, vp)
X509_NAME_print_ex = fn('X509_NAME_print_ex', ip, vp, vp, ip, ctypes.c_ulong)
X509_NAME_oneline = fn('X509_NAME_oneline', vp, vp, vp, ip)
CRYPTO_free = fn('CRYPTO_free', None, vp, cp, ip)
X509_NAME_entry_count = fn('X509_NAME_entry_count', ip, vp)
X509_NAME_get_entry = fn('X509_NAME_get_entry', vp, vp, ip)
X509_NAME_ENTRY_get_data = fn('X509_NAME_ENTRY_get_data', vp, vp)
X509_NAME_ENTRY_get_object = fn('X509_NAME_ENTRY_get_object', vp, vp)
OBJ_obj2nid = fn('OBJ_obj2nid', ip, vp)
OBJ_txt2nid = fn('OBJ_txt2nid', ip, cp)
OBJ_nid2ln = fn('OBJ_nid2ln', cp, ip)
OBJ_txt2obj = fn('OBJ_txt2obj', vp, cp, ip)
OBJ_cmp = fn('OBJ_cmp', ip, vp, vp)
ASN1_OBJECT_free = fn('ASN1_OBJECT_free', None, vp)
ASN1_STRING_print_ex = fn('ASN1_STRING_print_ex', ip, vp, vp, ctypes.c_ulong)
ASN1_STRING_length = fn('ASN1_STRING_length', ip, vp)
ASN1_STRING_get0_data = fn('ASN1_STRING_get0_data', vp, vp)
ASN1_STRING_free = fn('ASN1_STRING_free', None, vp)
X509_get_serialNumber = fn('X509_get_serialNumber', vp, vp)
i2a_ASN1_INTEGER = fn('i2a_ASN1_INTEGER', ip, vp, vp)
ASN1_INTEGER_to_BN = fn('ASN1_INTEGER_to_BN', vp, vp, vp)
BN_bn2dec = fn('BN_bn2dec', vp, vp)
BN_free = fn('BN_free', None, vp)
X509_get0_notBefore = fn('X509_get0_notBefore', vp, vp)
X509_get0_notAfter = fn('X509_get0_notAfter', vp, vp)
ASN1_TIME_print = fn('ASN1_TIME_print', ip, vp, vp)
X509_get0_tbs_sigalg = fn('X509_get0_tbs_sigalg', vp, vp)
X509_ALGOR_get0 = fn('X509_ALGOR_get0', None, ctypes.POINTER(vp), vp, vp, vp)
X509_get_X509_PUBKEY = fn('X509_get_X509_PUBKEY', vp, vp)
X509_PUBKEY_get0_param = fn('X509_PUBKEY_get0_param', ip, ctypes.POINTER(vp), vp, vp, vp, vp)
PEM_write_bio_X509 = fn('PEM_write_bio_X509', ip, vp, vp)
X509_get_ext_count = fn('X509_get_ext_count', ip, vp)
X509_get_ext = fn('X509_get_ext', vp, vp, ip)
X509_EXTENSION_get_object = fn('X509_EXTENSION_get_object', vp, vp)
X509_EXTENSION_get_data = fn('X509_EXTENSION_get_data', vp, vp)
X509V3_EXT_print = fn('X509V3_EXT_print', ip, vp, vp, ctypes.c_ulong, ip)
d2i_DISPLAYTEXT = fn('d2i_DISPLAYTEXT', vp, vp, ctypes.POINTER(ctypes.c_char_p), lg)
X509_get_ext_d2i = fn('X509_get_ext_d2i', vp, vp, ip, ctypes.POINTER(ip), vp)
OPENSSL_sk_num = fn('OPENSSL_sk_num', ip, vp)
OPENSSL_sk_value = fn('OPENSSL_sk_value', vp, vp, ip)
ERR_clear_error = fn('ERR_clear_error', None)

class ASN1_STRING(ctypes.Structure):
    _fields_ = [('length', ip), ('type', ip), ('data', ctypes.POINTER(ctypes.c_ubyte)), ('flags', lg)]
class GENERAL_NAME(ctypes.Structure):
    _fields_ = [('type', ip), ('d', vp)]
class OTHERNAME(ctypes.Structure):
    _fields_ = [('type_id', vp), ('value', vp)]
class ASN1_TYPE(ctypes.Structure):
    _fields_ = [('type', ip), ('value', vp)]

BIO_CTRL_PENDING = 10
def bio_text(write):
    b = BIO_new(BIO_s_mem())
    rv = write(b)
    n = BIO_ctrl(b, BIO_CTRL_PENDING, 0, None)
    buf = ctypes.create_string_buffer(max(n, 1))
    got = BIO_read(b, buf, n) if n > 0 else 0
    BIO_free(b)
    return rv, buf.raw[:max(got, 0)]

ESC_CTRL, UTF8_CONVERT, ESC_MSB = 2, 0x10, 4
XN_FLAG_RFC2253 = 0x317 | 0x10000 | 0x100000 | 0x1000000
MODSSL_DN_FLAGS = XN_FLAG_RFC2253 & ~ESC_MSB

def h(b): return b.hex()

def modssl_bio_free_read(bs):
    return None if len(bs) == 0 else bs

DN_RECS = [('C', C), ('ST', ST), ('L', L), ('O', O), ('OU', OU), ('CN', CN), ('T', T), ('I', I),
           ('G', G), ('S', S), ('D', D), ('UID', UID), ('Email', EMAIL)]

def entry_to_string(e, raw):
    flags = ESC_CTRL | (0 if raw else UTF8_CONVERT)
    _, out = bio_text(lambda b: ASN1_STRING_print_ex(b, X509_NAME_ENTRY_get_data(e), flags))
    return out

def name_facts(nm):
    _, rfc = bio_text(lambda b: X509_NAME_print_ex(b, nm, 0, MODSSL_DN_FLAGS))
    p = X509_NAME_oneline(nm, None, 0)
    legacy = ctypes.string_at(p) if p else None
    if p:
        CRYPTO_free(p, b'', 0)
    comps = {}
    export = {}
    count = {}
    for i in range(X509_NAME_entry_count(nm)):
        e = X509_NAME_get_entry(nm, i)
        nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))
        for tag, o in DN_RECS:
            if nid == OBJ_txt2nid(o.encode()):
                k = count.get(tag, 0)
                comps.setdefault(tag, []).append([h(entry_to_string(e, False)), h(entry_to_string(e, True))])
                export[tag if k == 0 else f'{tag}_{k}'] = h(entry_to_string(e, False))
                count[tag] = k + 1
    return rfc, legacy, comps, export

def ln_or_unknown(obj):
    nid = OBJ_obj2nid(obj)
    return 'UNKNOWN' if nid == 0 else OBJ_nid2ln(nid).decode()

GEN_OTHERNAME, GEN_EMAIL, GEN_DNS = 0, 1, 2
V_ASN1_UTF8STRING, V_ASN1_IA5STRING = 12, 22

def asn1_to_utf8(strp):
    _, out = bio_text(lambda b: ASN1_STRING_print_ex(b, strp, ESC_CTRL | UTF8_CONVERT))
    return modssl_bio_free_read(out)

def get_san(x, gtype, onf, idx):
    """modssl_X509_getSAN: returns list (None = FALSE)"""
    nid = OBJ_txt2nid(onf.encode()) if onf else 0
    entries = []
    crit = ip(0)
    names = X509_get_ext_d2i(x, 85, ctypes.byref(crit), None)
    ERR_clear_error()
    if names:
        n = 0
        for i in range(OPENSSL_sk_num(names)):
            g = ctypes.cast(OPENSSL_sk_value(names, i), ctypes.POINTER(GENERAL_NAME)).contents
            if g.type != gtype:
                continue
            if gtype in (GEN_EMAIL, GEN_DNS):
                if idx == -1 or n == idx:
                    s = asn1_to_utf8(g.d)
                    if s is not None:
                        entries.append(s)
                n += 1
            else:
                on = ctypes.cast(g.d, ctypes.POINTER(OTHERNAME)).contents
                if OBJ_obj2nid(on.type_id) == nid:
                    if idx == -1 or n == idx:
                        v = ctypes.cast(on.value, ctypes.POINTER(ASN1_TYPE)).contents
                        if onf == 'msUPN' and v.type == V_ASN1_UTF8STRING:
                            s = asn1_to_utf8(v.value)
                            if s is not None: entries.append(s)
                        elif onf == 'id-on-dnsSRV' and v.type == V_ASN1_IA5STRING:
                            s = asn1_to_utf8(v.value)
                            if s is not None: entries.append(s)
                    n += 1
            if idx != -1 and n > idx:
                break
    return entries if entries else None

def ext_list(x, ident, no_name):
    o = OBJ_txt2obj(ident.encode(), no_name)
    ERR_clear_error()
    if not o:
        return []
    out = []
    for j in range(X509_get_ext_count(x)):
        e = X509_get_ext(x, j)
        if OBJ_cmp(X509_EXTENSION_get_object(e), o) != 0:
            continue
        b = BIO_new(BIO_s_mem())
        ok = X509V3_EXT_print(b, e, 0, 0) == 1
        if not ok and not no_name:
            data = ctypes.cast(X509_EXTENSION_get_data(e), ctypes.POINTER(ASN1_STRING)).contents
            pp = ctypes.c_char_p(ctypes.string_at(data.data, data.length))
            s = d2i_DISPLAYTEXT(None, ctypes.byref(pp), data.length)
            if s:
                ASN1_STRING_print_ex(b, s, UTF8_CONVERT)
                ASN1_STRING_free(s)
                ok = True
        n = BIO_ctrl(b, BIO_CTRL_PENDING, 0, None)
        buf = ctypes.create_string_buffer(max(n, 1))
        got = BIO_read(b, buf, n) if n > 0 else 0
        BIO_free(b)
        if ok:
            v = buf.raw[:max(got, 0)]
            out.append(h(v.split(b'\0')[0]))
        ERR_clear_error()
    ASN1_OBJECT_free(o)
    return out

def facts(der, ext_ids):
    pp = ctypes.c_char_p(der)
    x = d2i_X509(None, ctypes.byref(pp), len(der))
    ERR_clear_error()
    if not x:
        return None
    f = {'m_version': str(X509_get_version(x) + 1)}
    _, f['m_serial'] = bio_text(lambda b: i2a_ASN1_INTEGER(b, X509_get_serialNumber(x)))
    f['m_serial'] = f['m_serial'].decode()
    f['v_start'] = bio_text(lambda b: ASN1_TIME_print(b, X509_get0_notBefore(x)))[1].decode()
    f['v_end'] = bio_text(lambda b: ASN1_TIME_print(b, X509_get0_notAfter(x)))[1].decode()
    for which, getter in (('s', X509_get_subject_name), ('i', X509_get_issuer_name)):
        rfc, legacy, comps, export = name_facts(getter(x))
        f[which + '_dn'] = h(rfc)
        f[which + '_dn_legacy'] = None if legacy is None else h(legacy)
        f[which + '_components'] = comps
        f[which + '_export'] = export
    algo = vp()
    X509_ALGOR_get0(ctypes.byref(algo), None, None, X509_get0_tbs_sigalg(x))
    f['a_sig'] = ln_or_unknown(algo)
    kobj = vp()
    X509_PUBKEY_get0_param(ctypes.byref(kobj), None, None, None, X509_get_X509_PUBKEY(x))
    f['a_key'] = ln_or_unknown(kobj)
    f['pem'] = bio_text(lambda b: PEM_write_bio_X509(b, x))[1].decode()
    bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), None)
    dp = BN_bn2dec(bn)
    dec = ctypes.string_at(dp)
    CRYPTO_free(dp, b'', 0); BN_free(bn)
    _, iss = bio_text(lambda b: X509_NAME_print_ex(b, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253))
    cea = b'{ serialNumber ' + dec + b', issuer rdnSequence:"'
    if iss:
        cea += iss + b'" }'
    f['cea'] = h(cea)
    san = {}
    for kind, gtype, onf in (('Email', GEN_EMAIL, None), ('DNS', GEN_DNS, None),
                             ('OTHER_msUPN', GEN_OTHERNAME, 'msUPN'), ('OTHER_dnsSRV', GEN_OTHERNAME, 'id-on-dnsSRV')):
        allv = get_san(x, gtype, onf, -1)
        san[kind] = {'all': None if allv is None else [h(v) for v in allv],
                     'idx': [None if (r := get_san(x, gtype, onf, i)) is None else h(r[0]) for i in range(4)]}
    f['san'] = san
    f['ext'] = {}
    for ident in ext_ids:
        f['ext'][ident] = {'2.4': ext_list(x, ident, 0), '2.2': ext_list(x, ident, 1)}
    X509_free(x)
    return f

# ---------------------------------------------------------------- cases
cases = []
def case(name, der, ext_ids=(), expect_err=False, known_diff=None):
    cases.append((name, der, list(ext_ids), expect_err, known_diff))

# serials
for label, raw in [('00', b'\x00'), ('01', b'\x01'), ('7F', b'\x7f'), ('0080', b'\x00\x80'),
                   ('80', b'\x80'), ('FF', b'\xff'), ('FF00', b'\xff\x00'), ('FF7F', b'\xff\x7f'),
                   ('8000', b'\x80\x00'), ('00FF', b'\x00\xff'), ('0A1B2C', b'\x0a\x1b\x2c'),
                   ('20 bytes', bytes.fromhex('7feeddccbbaa99887766554433221100ffeeddcc')),
                   ('40 bytes', bytes(range(1, 41))), ('neg 36 bytes', b'\x80' + bytes(range(1, 36)))]:
    case(f'serial {label}', cert(serial=integer_raw(raw)))
for label, raw in [('empty', b''), ('0001', b'\x00\x01'), ('FF80', b'\xff\x80\x01')]:
    case(f'serial invalid {label}', cert(serial=integer_raw(raw)), expect_err=True)

# times
for label, nb, na in [
    ('utc 2049', utctime('491231235959Z'), utctime('491231235959Z')),
    ('utc 1950', utctime('500101000000Z'), utctime('500101000000Z')),
    ('utc 1999', utctime('991231235959Z'), utctime('000101000000Z')),
    ('gen 2050', gentime('20500101000000Z'), gentime('20500101000000Z')),
    ('gen 9999', gentime('19700101000000Z'), gentime('99991231235959Z')),
    ('gen fraction', gentime('20261225164416.123Z'), gentime('20261225164416.5Z')),
    ('utc no seconds', utctime('2611251643Z'), utctime('2711251643Z')),
    ('utc offset', utctime('261125164329+0130'), utctime('271125164329-0100')),
    ('day padding', utctime('260101000000Z'), utctime('261009080706Z')),
    ('leap day', utctime('280229120000Z'), utctime('280301120000Z')),
]:
    case(f'time {label}', cert(not_before=nb, not_after=na))

# names
case('dn rfc2253 specials', cert(subject=name(
    (CN, utf8('a,b+c"d\\e<f>g;h=i')), (O, utf8('#lead')), (OU, utf8(' lead')), (OU, utf8('trail ')),
    (L, utf8('#')), (ST, utf8(' ')), (T, utf8('mid # and  space')), (D, utf8('x\x01y\x7fz\x1f')))))
case('dn unicode types', cert(subject=name(
    (CN, utf8('José "Q" +<x>;')), (O, t61(b'Caf\xe9')), (OU, bmp('Zoë Ω')), (L, univ('Ünï 𝄞')),
    (ST, ia5(b'h\xe9llo')), (C, printable('FR')), (G, bmp('a\x00b')))))
case('dn multivalued', cert(subject=name(
    (C, printable('US')), [(CN, utf8('Zoë')), (UID, utf8('zoe'))], [(OU, utf8('a')), (OU, utf8('b/c')), (OU, utf8('d+e'))],
    (EMAIL, ia5('z@example.fr')))))
case('dn repeated and extra attrs', cert(subject=name(
    (OU, utf8('one')), (OU, utf8('two')), (OU, utf8('three')), (CN, utf8('first')), (CN, utf8('second')),
    (T, utf8('Dr')), (I, utf8('JQ')), (G, utf8('John')), (S, utf8('Public')), (D, utf8('desc')),
    (UID, utf8('jqp')), (EMAIL, ia5('jqp@example.com')), (DC, ia5('example')), (SERIALNUMBER, printable('12345')),
    ('2.5.4.9', utf8('1 Main St')), ('2.5.4.17', utf8('12345')))))
case('dn unknown oid', cert(subject=name(
    ('1.2.3.4', utf8('hello')), (CN, utf8('x')), ('1.3.6.1.4.1.99999.1', printable('Zz')),
    ('2.999.1234567890123456789012345', ia5('big arc')))))
case('dn odd value types', cert(subject=name(
    (CN, seq(utf8('in'), integer(5))), (O, bitstring(b'\xa5\xff', 3)), (OU, tlv(0x07, b'od')),
    (L, utf8('')), (ST, utf8('back\\slash')))))
case('dn invalid utf8 rejected', cert(subject=name((D, utf8(b'bad\xc3(utf8')))), expect_err=True)
case('dn utf8 above 10FFFF rejected', cert(subject=name((CN, utf8(b'\xf4\x90\x80\x80')))), expect_err=True)
case('dn universal above 10FFFF rejected', cert(subject=name((CN, tlv(0x1c, b'\x00\x11\x00\x00')))), expect_err=True)
case('dn empty subject', cert(subject=seq()))
case('dn issuer escapes', cert(issuer=name((C, printable('FR')), (O, utf8('Société "Générale", S.A.')), (CN, utf8('CA\\1')))))
case('dn control and msb', cert(subject=name((CN, utf8('tab\there\nnl')), (O, utf8('\u00a0nbsp\u00a0')), (OU, t61(b'\x80\x9f\xff')))))
case('dn bmp surrogate', cert(subject=name((CN, bmp(b'\xd8\x00\x00A')), (O, utf8('ok')))), expect_err=True)
case('dn visiblestring rejected', cert(subject=name((CN, visible('vis')))), expect_err=True)
case('dn printable with invalid chars', cert(subject=name((CN, printable('a_b@c')), (O, tlv(0x12, b'12 34')))))

# signature / key algorithms
case('alg ecdsa', cert(sig='1.2.840.10045.4.3.2', sig_params=b'', spki=EC_SPKI))
case('alg ed25519 sig', cert(sig='1.3.101.112', sig_params=b''))
case('alg unknown sig', cert(sig='1.2.3.4.5', sig_params=b''))
case('alg rsassa-pss', cert(sig='1.2.840.113549.1.1.10', sig_params=seq()))
case('alg dsa', cert(sig='2.16.840.1.101.3.4.3.2', sig_params=b''))

# extensions
EXT_IDS_COMMON = ['2.5.29.19', 'basicConstraints', 'X509v3 Basic Constraints', '2.5.29.15', 'keyUsage',
                  '2.5.29.37', 'extendedKeyUsage', '2.5.29.17', 'subjectAltName', '2.5.29.18', '2.5.29.14',
                  'subjectKeyIdentifier', '2.5.29.35', 'authorityKeyIdentifier', 'nsComment',
                  'Netscape Comment', '2.16.840.1.113730.1.13', '2.16.840.1.113730.1.1', 'nsCertType',
                  '1.3.6.1.5.5.7.1.1', 'authorityInfoAccess', '1.3.6.1.5.5.7.1.11', '2.5.29.31',
                  'crlDistributionPoints', '2.5.29.54', '2.5.29.36', '1.3.6.1.5.5.7.1.24',
                  '1.3.6.1.5.5.7.48.1.5', '2.5.29.20', '1.2.3.4.5.6', '1.2.3.4.5.7', '1.2.3.4.5.8',
                  '1.2.3.4.5.9', '1.2.3.4.5.10', '1.2.3.4.5.11', '1.2.3.4.5.12', '1.2.3.4.5.13',
                  '1.2.3.4.5.6.', '1.2.3.4.5..6', '1 2 3 4 5 6', '01.2.3.4.5.6', 'basicconstraints',
                  'CN', 'nonsense', '', '3.1', '1.40.1', '2.5.29.19 ']

def gn_other(o, v): return ctx(0, oid(o) + ctx(0, v))
def gn_email(s): return ctx(1, s if isinstance(s, bytes) else s.encode(), False)
def gn_dns(s): return ctx(2, s if isinstance(s, bytes) else s.encode(), False)
def gn_uri(s): return ctx(6, s.encode(), False)
def gn_ip(b): return ctx(7, b, False)
def gn_rid(o): return ctx(8, oid_content(o), False)
def gn_dir(n): return ctx(4, n)

UPN, SRV = '1.3.6.1.4.1.311.20.2.3', '1.3.6.1.5.5.7.8.7'
san_all = seq(gn_email('a@example.com'), gn_dns('www.example.com'), gn_uri('https://example.com/x'),
              gn_ip(bytes([192, 0, 2, 1])), gn_ip(bytes.fromhex('20010db8000000000000000000000001')),
              gn_ip(b'\x01\x02\x03'), gn_dir(name((C, printable('US')), (CN, utf8('Dir/Name+x')))),
              gn_rid('1.2.3.4'), gn_rid('2.5.29.19'), gn_other(UPN, utf8('upn@corp')),
              gn_other(SRV, ia5('_ldap._tcp.example')), gn_other('1.2.3.4.5', utf8('other utf8')),
              gn_other('1.2.3.4.6', ia5('other ia5')), gn_other('1.2.3.4.7', integer(5)),
              gn_other(UPN, ia5('upn-but-ia5')), gn_other(UPN, utf8('second upn')),
              gn_email(b'caf\xe9@example.com'), gn_dns('DNS\\with\x01ctl'),
              gn_other('1.3.6.1.5.5.7.8.9', utf8('smtp@utf8')), gn_other('1.3.6.1.5.5.7.8.5', utf8('xmpp@x')),
              gn_other('1.3.6.1.5.5.7.8.8', utf8('realm')), gn_other(SRV, utf8('srv-but-utf8')),
              ctx(3, seq()), ctx(5, ctx(1, utf8('party'))))
case('ext san everything', cert(exts=[ext('2.5.29.17', san_all)]), EXT_IDS_COMMON)
case('san dirname invalid utf8', cert(exts=[ext('2.5.29.17', seq(gn_dns('ok.example'), gn_dir(name((CN, utf8(b'\xff'))))))]), EXT_IDS_COMMON)
case('ext san empty dns', cert(exts=[ext('2.5.29.17', seq(gn_dns(''), gn_dns('b.example'), gn_email('e@x')))]), EXT_IDS_COMMON)
case('ext san dns trailing nul', cert(exts=[ext('2.5.29.17', seq(gn_dns(b'a.example\x00'), gn_dns(b'b\x00c')))]), EXT_IDS_COMMON)
case('ext san empty sequence', cert(exts=[ext('2.5.29.17', seq())]), EXT_IDS_COMMON)
case('ext san duplicated', cert(exts=[ext('2.5.29.17', seq(gn_dns('one.example'))), ext('2.5.29.17', seq(gn_dns('two.example')))]), EXT_IDS_COMMON)
case('ext san undecodable', cert(exts=[ext('2.5.29.17', seq(ctx(9, b'x', False)))]), EXT_IDS_COMMON)
case('ext san trailing garbage', cert(exts=[ext('2.5.29.17', seq(gn_dns('ok.example')) + b'\x05\x00')]), EXT_IDS_COMMON)
case('ext ian and long dirname', cert(exts=[ext('2.5.29.18', seq(gn_dir(name(*[(OU, utf8('x' * 40)) for _ in range(8)]))))]), EXT_IDS_COMMON)
case('ext basic constraints variants', cert(exts=[
    ext('2.5.29.19', seq(boolean(0xff), integer(0))), ext('2.5.29.19', seq(boolean(0xff))), ext('2.5.29.19', seq()),
    ext('2.5.29.19', seq(boolean(1), integer(2**130))), ext('2.5.29.19', seq(integer(-3))),
    ext('2.5.29.19', seq(boolean(0), integer(7))), ext('2.5.29.19', seq(NULL)), ext('2.5.29.19', utf8('CA:FALSE')),
    ext('2.5.29.19', seq(boolean(0xff), integer(2**64)))]), EXT_IDS_COMMON)
case('ext key usage variants', cert(exts=[
    ext('2.5.29.15', bitstring(b'\xff\x80', 7)), ext('2.5.29.15', bitstring(b'\x00', 0)), ext('2.5.29.15', bitstring(b'\x86', 1)),
    ext('2.5.29.15', bitstring(b'', 0)), ext('2.16.840.1.113730.1.1', bitstring(b'\xf5', 0)),
    ext('2.16.840.1.113730.1.1', bitstring(b'\x00', 0))]), EXT_IDS_COMMON)
case('ext eku variants', cert(exts=[
    ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'), oid('1.3.6.1.5.5.7.3.4'),
                         oid('1.2.3.4'), oid('2.5.29.37.0'), oid('1.3.6.1.4.1.311.20.2.2'),
                         oid('1.2.840.113549.1.9.16.2.' + '.'.join(['123456789'] * 8)))),
    ext('2.5.29.37', seq())]), EXT_IDS_COMMON)
case('ext key ids', cert(exts=[
    ext('2.5.29.14', octets(bytes.fromhex('5b564a17db24'))), ext('2.5.29.14', octets(b'')),
    ext('2.5.29.35', seq(ctx(0, bytes.fromhex('f6694bfb'), False))),
    ext('2.5.29.35', seq(ctx(0, b'\x01\x02', False), ctx(1, gn_dir(name((CN, utf8('Root'))))), ctx(2, b'\x00\x80\x01', False))),
    ext('2.5.29.35', seq(ctx(2, b'\x10', False))), ext('2.5.29.35', seq())]), EXT_IDS_COMMON)
case('ext netscape strings', cert(exts=[
    ext('2.16.840.1.113730.1.13', ia5('This Is A Comment')), ext('2.16.840.1.113730.1.13', utf8('UTF8 comment é')),
    ext('2.16.840.1.113730.1.13', ia5('')), ext('2.16.840.1.113730.1.13', ia5(b'nul\x00inside')),
    ext('2.16.840.1.113730.1.2', ia5('http://base/')), ext('2.16.840.1.113730.1.12', ia5('ssl.example')),
    ext('2.16.840.1.113730.1.13', ia5(b'caf\xe9'))]), EXT_IDS_COMMON)
case('ext info access', cert(exts=[
    ext('1.3.6.1.5.5.7.1.1', seq(seq(oid('1.3.6.1.5.5.7.48.1'), gn_uri('http://ocsp.example')),
                                 seq(oid('1.3.6.1.5.5.7.48.2'), gn_uri('http://ca.example/ca.crt')),
                                 seq(oid('1.2.3.4'), gn_dns('other.example')))),
    ext('1.3.6.1.5.5.7.1.11', seq(seq(oid('1.3.6.1.5.5.7.48.5'), gn_uri('http://repo.example')))),
    ext('1.3.6.1.5.5.7.1.1', seq())]), EXT_IDS_COMMON)
case('ext crl dp', cert(exts=[
    ext('2.5.29.31', seq(seq(ctx(0, ctx(0, gn_uri('http://crl.example/a.crl') + gn_uri('ldap://crl.example')))),
                         seq(ctx(0, ctx(0, gn_uri('http://crl2.example'))), ctx(1, b'\x05\x60', False)),
                         seq(ctx(0, ctx(1, atv(CN, utf8('rel')) + atv(O, utf8('Org')))), ctx(2, gn_dir(name((CN, utf8('Issuer')))))),
                         seq(ctx(1, b'\x00', False))))]), EXT_IDS_COMMON)
case('ext misc integers', cert(exts=[
    ext('2.5.29.54', integer(3)), ext('2.5.29.36', seq(ctx(0, b'\x00', False), ctx(1, b'\x02', False))),
    ext('2.5.29.36', seq(ctx(1, b'\x05', False))), ext('2.5.29.36', seq()),
    ext('1.3.6.1.5.5.7.1.24', seq(integer(5), integer(17), integer(99))), ext('1.3.6.1.5.5.7.48.1.5', NULL),
    ext('2.5.29.20', integer(2**200))]), EXT_IDS_COMMON)
case('ext unknown types', cert(exts=[
    ext('1.2.3.4.5.6', utf8('hello-oracle')), ext('1.2.3.4.5.6', ia5(b'caf\xe9 ia5')), ext('1.2.3.4.5.7', visible('vis ible')),
    ext('1.2.3.4.5.8', bmp('bmp Ω é')), ext('1.2.3.4.5.9', bmp(b'\xd8\x00\x00a')), ext('1.2.3.4.5.10', utf8(b'a\x00b')),
    ext('1.2.3.4.5.11', octets(b'raw')), ext('1.2.3.4.5.12', utf8('tail') + b'\x05\x00'),
    ext('1.2.3.4.5.13', utf8('ctl\x01\\ "q",+')), ext('1.2.3.4.5.13', printable('printable')),
    ext('1.2.3.4.5.13', bmp(b'\x00a\x00')), ext('1.2.643.100.111', utf8('sign tool')),
    ext('1.2.643.100.111', utf8('')), ext('1.2.643.100.111', ia5('ia5 tool'))]), EXT_IDS_COMMON + ['1.2.643.100.111', 'subjectSignTool'])

CPS, UNOTICE = '1.3.6.1.5.5.7.2.1', '1.3.6.1.5.5.7.2.2'
case('ext certificate policies', cert(exts=[
    ext('2.5.29.32', seq(seq(oid('2.23.140.1.2.1')),
                         seq(oid('1.3.6.1.4.1.99999.1.2.3'), seq(seq(oid(CPS), ia5('https://cps.example/')),
                             seq(oid(UNOTICE), seq(seq(utf8('Org Inc'), seq(integer(1), integer(2))), visible('Explicit words'))),
                             seq(oid(UNOTICE), seq(bmp('bmp text'))),
                             seq(oid(UNOTICE), seq(seq(ia5('Org2'), seq(integer(7))))),
                             seq(oid('1.2.3.4'), utf8('whatever')))),
                         seq(oid('2.5.29.32.0')))),
    ext('2.5.29.32', seq()), ext('2.5.29.32', seq(seq(oid('1.2.3'), seq(seq(oid(CPS), utf8('not ia5'))))))]),
    EXT_IDS_COMMON + ['2.5.29.32', 'certificatePolicies'])
case('ext long rid and eku', cert(exts=[
    ext('2.5.29.17', seq(gn_rid('1.2.' + '.'.join(['4294967295'] * 30)))),
    ext('2.5.29.31', seq(seq(ctx(0, ctx(0, gn_rid('1.2.' + '.'.join(['4294967295'] * 30)))))))]), EXT_IDS_COMMON)

# structural corner cases (does x509-parser accept what OpenSSL accepts?)
case('struct version 1 (absent)', cert(version=None))
case('struct version 4', cert(version=3))
case('struct empty rdn set', cert(subject=seq(set_(), set_(atv(CN, utf8('x'))))))
case('struct critical false explicit', cert(exts=[seq(oid('2.5.29.19'), tlv(0x01, b'\x00'), octets(seq()))]), ['2.5.29.19'])
case('struct no extensions', cert(exts=None))
case('struct seconds 60', cert(not_after=utctime('271125164360Z')), known_diff='x509-parser rejects the time; OpenSSL accepts the certificate and prints "Bad time value"')
case('struct gen no Z', cert(not_after=gentime('20271125164329')), known_diff='x509-parser rejects a GeneralizedTime without zone; OpenSSL accepts the certificate')
case('struct T61 with 0x80 and tag 29', cert(subject=name((CN, tlv(0x1d, b'abc')), (O, t61(b'\x80')))))

out = {'openssl': OpenSSL_version(0).decode(), 'cases': []}
for nm, der, ids, expect_err, known in cases:
    f = facts(der, ids)
    if f is None and not expect_err:
        print(f'warning: OpenSSL rejects {nm!r}', file=sys.stderr)
    if f is not None and expect_err:
        print(f'warning: OpenSSL accepts {nm!r}', file=sys.stderr)
    out['cases'].append({'name': nm, 'der': h(der), 'openssl_rejects': f is None, 'known_diff': known, 'facts': f})
json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
print()
