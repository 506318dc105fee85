//! The verification run: `X509_STORE_CTX` (`build_chain`,
//! `check_extensions`, `check_auth_level`, `internal_verify`) plus mod_ssl's
//! callback.

use super::cert::{
    likely_issued, purpose_ssl_client, signature_ok, Asn1Time, Cert, KU_DIGITAL_SIGNATURE,
    KU_KEY_CERT_SIGN,
};
use super::{code, ModSslCallback, MINBITS, OPENSSL_PARAM_DEPTH};

pub(super) struct Ctx<'a> {
    pub(super) store: &'a [Cert],
    pub(super) chain: Vec<&'a Cert>,
    pub(super) num_untrusted: usize,
    /// `ctx->error`, sticky
    pub(super) error: i32,
    pub(super) now: i64,
    pub(super) auth_level: u8,
    pub(super) cb: ModSslCallback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trust {
    Trusted,
    Untrusted,
}

impl<'a> Ctx<'a> {
    /// `verify_cb_cert`: report `err` (if any) at `depth`; false aborts.
    pub(super) fn fail(&mut self, depth: usize, err: i32) -> bool {
        if err != code::OK {
            self.error = err;
        }
        let errnum = self.error;
        self.cb.call(false, errnum, depth)
    }

    /// `X509_verify_cert`; true when the chain is accepted.
    pub(super) fn verify_cert(&mut self, peer: &'a [Cert]) -> bool {
        let Some(leaf) = peer.first() else {
            return false;
        };
        self.chain.push(leaf);
        self.num_untrusted = 1;
        if !self.check_key_level(leaf) && !self.fail(0, code::EE_KEY_TOO_SMALL) {
            return false;
        }
        self.build_chain(peer)
            && self.check_extensions()
            && self.check_auth_level()
            && self.internal_verify()
    }

    pub(super) fn max_depth() -> usize {
        OPENSSL_PARAM_DEPTH + 1
    }

    /// `X509_STORE_CTX_get1_issuer` over the trust store.
    pub(super) fn trusted_issuer(&self, x: &Cert) -> Option<&'a Cert> {
        let mut fallback: Option<&'a Cert> = None;
        for cand in self.store.iter().filter(|c| c.subject == x.issuer) {
            if !likely_issued(cand, x) {
                continue;
            }
            if cand.time_valid(self.now) {
                return Some(cand);
            }
            if fallback.is_none_or(|f| cand.not_after_key() > f.not_after_key()) {
                fallback = Some(cand);
            }
        }
        fallback
    }

    /// `find_issuer` over the peer's certificates.
    pub(super) fn untrusted_issuer(&self, pool: &[&'a Cert], x: &Cert) -> Option<usize> {
        let mut fallback: Option<usize> = None;
        for (i, cand) in pool.iter().enumerate() {
            let allowed = (x.self_issued && self.chain.len() == 1)
                || !self.chain.iter().any(|c| c.der == cand.der);
            if !likely_issued(cand, x) || !allowed {
                continue;
            }
            if cand.time_valid(self.now) {
                return Some(i);
            }
            if fallback.is_none_or(|f| cand.not_after_key() > pool[f].not_after_key()) {
                fallback = Some(i);
            }
        }
        fallback
    }

    /// `check_trust(ctx, from)`: without auxiliary trust, a store certificate
    /// is trusted when it is self-signed.
    pub(super) fn check_trust(&self, from: usize) -> Trust {
        if self.chain.iter().skip(from).any(|c| c.self_signed()) {
            Trust::Trusted
        } else {
            Trust::Untrusted
        }
    }

    /// `build_chain`, trusted-first, no DANE, no alternate chains.
    pub(super) fn build_chain(&mut self, peer: &'a [Cert]) -> bool {
        const UNTRUSTED: u8 = 1;
        const TRUSTED: u8 = 2;
        let mut pool: Vec<&'a Cert> = peer.iter().collect();
        let mut search = UNTRUSTED | TRUSTED;
        let mut trust = Trust::Untrusted;
        let max_depth = Self::max_depth();

        while search != 0 {
            if search & TRUSTED != 0 {
                let mut num = self.chain.len();
                let curr = self.chain[num - 1];
                let found = if num > max_depth {
                    None
                } else {
                    self.trusted_issuer(curr)
                };
                if let Some(issuer) = found {
                    let mut self_signed = curr.self_signed();
                    let mut ok = true;
                    if !self_signed {
                        self.chain.push(issuer);
                        self_signed = issuer.self_signed();
                    } else if curr.der != issuer.der {
                        // self-signed untrusted mimic of a trust anchor
                        ok = false;
                    } else {
                        num -= 1;
                        self.num_untrusted = num;
                        self.chain[num] = issuer;
                    }
                    if ok {
                        search &= !UNTRUSTED;
                        trust = self.check_trust(num);
                        if trust != Trust::Untrusted {
                            break;
                        }
                        if !self_signed {
                            continue;
                        }
                    }
                }
                if search & UNTRUSTED == 0 {
                    break;
                }
            }
            if search & UNTRUSTED != 0 {
                let num = self.chain.len();
                let curr = self.chain[num - 1];
                let found = if curr.self_signed() || num > max_depth {
                    None
                } else {
                    self.untrusted_issuer(&pool, curr)
                };
                match found {
                    None => {
                        search &= !UNTRUSTED;
                        search |= TRUSTED;
                        continue;
                    }
                    Some(i) => {
                        let issuer = pool.remove(i);
                        self.chain.push(issuer);
                        self.num_untrusted += 1;
                    }
                }
            }
        }

        let num = self.chain.len();
        if num <= max_depth && trust == Trust::Untrusted && num == self.num_untrusted {
            trust = self.check_trust(num);
        }
        if trust == Trust::Trusted {
            return true;
        }
        match self.error {
            code::ERROR_IN_CERT_NOT_BEFORE_FIELD
            | code::CERT_NOT_YET_VALID
            | code::ERROR_IN_CERT_NOT_AFTER_FIELD
            | code::CERT_HAS_EXPIRED => return false,
            code::OK => {}
            other => return self.fail(num - 1, other),
        }
        if num > max_depth && !self.fail(num - 1, code::CERT_CHAIN_TOO_LONG) {
            return false;
        }
        if self.chain[num - 1].self_signed() {
            let err = if num == 1 {
                code::DEPTH_ZERO_SELF_SIGNED_CERT
            } else {
                code::SELF_SIGNED_CERT_IN_CHAIN
            };
            return self.fail(num - 1, err);
        }
        let err = if self.num_untrusted < num {
            code::UNABLE_TO_GET_ISSUER_CERT
        } else {
            code::UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        };
        self.fail(num - 1, err)
    }

    /// `check_extensions` with the `ssl_client` purpose, not strict.
    pub(super) fn check_extensions(&mut self) -> bool {
        let num = self.chain.len();
        let mut must_be_ca = -1;
        let mut plen: u64 = 0;
        for i in 0..num {
            let x = self.chain[i];
            if x.unhandled_critical && !self.fail(i, code::UNHANDLED_CRITICAL_EXTENSION) {
                return false;
            }
            if x.proxy && !self.fail(i, code::PROXY_CERTIFICATES_NOT_ALLOWED) {
                return false;
            }
            let ret = x.check_ca();
            if must_be_ca == 1
                && (ret == 0 || (i + 1 < num && ret != 1))
                && !self.fail(i, code::INVALID_CA)
            {
                return false;
            }
            if num > 1 {
                // check_curve
                match &x.key {
                    None => {
                        if !self.fail(i, code::UNSPECIFIED) {
                            return false;
                        }
                    }
                    Some(k) if k.explicit_ec => {
                        if !self.fail(i, code::EC_KEY_EXPLICIT_PARAMS) {
                            return false;
                        }
                    }
                    Some(_) => {}
                }
            }
            if !purpose_ssl_client(x, must_be_ca > 0) && !self.fail(i, code::INVALID_PURPOSE) {
                return false;
            }
            if i > 1 {
                if let Some((_, Some(pathlen))) = x.bc {
                    if plen > pathlen && !self.fail(i, code::PATH_LENGTH_EXCEEDED) {
                        return false;
                    }
                }
            }
            if i > 0 && !x.self_issued {
                plen += 1;
            }
            must_be_ca = if x.proxy { 0 } else { 1 };
        }
        true
    }

    pub(super) fn check_key_level(&self, x: &Cert) -> bool {
        if self.auth_level == 0 {
            return true;
        }
        let Some(key) = &x.key else { return false };
        key.sec_bits >= MINBITS[usize::from(self.auth_level.min(5)) - 1]
    }

    pub(super) fn check_sig_level(&self, x: &Cert) -> bool {
        if self.auth_level == 0 {
            return true;
        }
        match x.sig.as_ref().and_then(|s| s.sec_bits) {
            Some(bits) => bits >= MINBITS[usize::from(self.auth_level.min(5)) - 1],
            None => false,
        }
    }

    /// `check_auth_level`
    pub(super) fn check_auth_level(&mut self) -> bool {
        if self.auth_level == 0 {
            return true;
        }
        let num = self.chain.len();
        for i in 0..num {
            let x = self.chain[i];
            if i > 0 && !self.check_key_level(x) && !self.fail(i, code::CA_KEY_TOO_SMALL) {
                return false;
            }
            if i + 1 < num && !self.check_sig_level(x) && !self.fail(i, code::CA_MD_TOO_WEAK) {
                return false;
            }
        }
        true
    }

    /// `ossl_x509_check_cert_time(ctx, x, depth)` with callbacks.
    pub(super) fn check_cert_time(&mut self, x: &Cert, depth: usize) -> bool {
        match x.not_before {
            Asn1Time::Bad => {
                if !self.fail(depth, code::ERROR_IN_CERT_NOT_BEFORE_FIELD) {
                    return false;
                }
            }
            Asn1Time::At(t) if t > self.now => {
                if !self.fail(depth, code::CERT_NOT_YET_VALID) {
                    return false;
                }
            }
            Asn1Time::At(_) => {}
        }
        match x.not_after {
            Asn1Time::Bad => {
                if !self.fail(depth, code::ERROR_IN_CERT_NOT_AFTER_FIELD) {
                    return false;
                }
            }
            // X509_cmp_time(notAfter, now) <= 0 means expired
            Asn1Time::At(t) if t <= self.now => {
                if !self.fail(depth, code::CERT_HAS_EXPIRED) {
                    return false;
                }
            }
            Asn1Time::At(_) => {}
        }
        true
    }

    /// `internal_verify`: issuer key usage, signatures and times, top down,
    /// with an `ok = 1` callback at each depth.
    pub(super) fn internal_verify(&mut self) -> bool {
        let Some(mut n) = self.chain.len().checked_sub(1) else {
            return false;
        };
        let mut xi_idx = n;
        let mut xs_idx = n;
        let top = self.chain[n];
        if !likely_issued(top, top) {
            if n > 0 {
                n -= 1;
                xs_idx = n;
            } else if !self.fail(0, code::UNABLE_TO_VERIFY_LEAF_SIGNATURE) {
                return false;
            }
        }
        loop {
            let xi = self.chain[xi_idx];
            let xs = self.chain[xs_idx];
            // signatures of self-signed certificates are not checked
            if xs_idx != xi_idx {
                let issuer_depth = n + 1;
                let usage = if xs.proxy {
                    if xi.ku.is_some_and(|ku| ku & KU_DIGITAL_SIGNATURE == 0) {
                        code::KEYUSAGE_NO_DIGITAL_SIGNATURE
                    } else {
                        code::OK
                    }
                } else if xi.ku.is_some_and(|ku| ku & KU_KEY_CERT_SIGN == 0) {
                    code::KEYUSAGE_NO_CERTSIGN
                } else {
                    code::OK
                };
                if usage != code::OK && !self.fail(issuer_depth, usage) {
                    return false;
                }
                if xi.key.is_none() {
                    if !self.fail(issuer_depth, code::UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY) {
                        return false;
                    }
                } else if !signature_ok(xs, xi) && !self.fail(n, code::CERT_SIGNATURE_FAILURE) {
                    return false;
                }
            }
            if !self.check_cert_time(xs, n) {
                return false;
            }
            let errnum = self.error;
            if !self.cb.call(true, errnum, n) {
                return false;
            }
            if n == 0 {
                return true;
            }
            n -= 1;
            xi_idx = xs_idx;
            xs_idx = n;
        }
    }
}
