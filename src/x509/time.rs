//! ASN.1 times: `ossl_asn1_time_to_tm`'s parser (non-strict, as for times
//! read from a certificate), `ASN1_TIME_print` and mod_ssl's
//! `ssl_var_lookup_ssl_cert_remain` (APR's own day arithmetic, kept because
//! its rounding is what Apache exports), and `X509_cmp_time`'s strict
//! reading for the verifier. Calendar arithmetic is chrono's.

use chrono::{DateTime, Datelike, NaiveDate, Timelike};

use super::der::{read_all, Tlv, CLASS_UNIVERSAL, TAG_GENERALIZEDTIME, TAG_SEQUENCE, TAG_UTCTIME};

#[derive(Debug, Clone)]
pub(super) struct AsnTime {
    pub(super) generalized: bool,
    pub(super) data: Vec<u8>,
}

/// A broken-down UTC time (full year).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Tm {
    pub(super) year: i64,
    pub(super) mon: i64, // 0-11
    pub(super) mday: i64,
    pub(super) hour: i64,
    pub(super) min: i64,
    pub(super) sec: i64,
}

impl Tm {
    /// Seconds since the epoch; `None` for a date that does not exist
    /// (which [`asn1_time_to_tm`] never builds).
    pub(super) fn unix(&self) -> Option<i64> {
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(self.year).ok()?,
            u32::try_from(self.mon + 1).ok()?,
            u32::try_from(self.mday).ok()?,
        )?;
        let at = date.and_hms_opt(
            u32::try_from(self.hour).ok()?,
            u32::try_from(self.min).ok()?,
            u32::try_from(self.sec).ok()?,
        )?;
        Some(at.and_utc().timestamp())
    }
    /// `OPENSSL_gmtime`; `None` outside chrono's range.
    pub(super) fn from_unix(t: i64) -> Option<Tm> {
        let at = DateTime::from_timestamp(t, 0)?;
        Some(Tm {
            year: i64::from(at.year()),
            mon: i64::from(at.month0()),
            mday: i64::from(at.day()),
            hour: i64::from(at.hour()),
            min: i64::from(at.minute()),
            sec: i64::from(at.second()),
        })
    }
}

pub(super) fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// `ossl_asn1_time_to_tm` (non-strict, as for times read from a certificate).
pub(super) fn asn1_time_to_tm(t: &AsnTime) -> Option<Tm> {
    const MIN: [i64; 9] = [0, 0, 1, 1, 0, 0, 0, 0, 0];
    const MAX: [i64; 9] = [99, 99, 12, 31, 23, 59, 59, 12, 59];
    const MDAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let a = &t.data;
    let l = a.len();
    let (end, btz, min_l) = if t.generalized {
        (7, 6, 13)
    } else {
        (6, 5, 11)
    };
    if l < min_l {
        return None;
    }
    let at = |i: usize| a.get(i).copied().unwrap_or(0);
    // tm_year is kept as years since 1900 like struct tm
    let mut tm_year: i64 = 0;
    let mut tm = Tm::default();
    let mut o = 0usize;
    let mut i = 0usize;
    while i < end {
        if i == btz && matches!(at(o), b'Z' | b'+' | b'-') {
            break;
        }
        if !at(o).is_ascii_digit() {
            return None;
        }
        let mut n = i64::from(at(o) - b'0');
        o += 1;
        if o == l || !at(o).is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(at(o) - b'0');
        o += 1;
        if o == l {
            return None;
        }
        let i2 = if t.generalized { i } else { i + 1 };
        if n < MIN[i2] || n > MAX[i2] {
            return None;
        }
        match i2 {
            0 => tm_year = n * 100 - 1900,
            1 => {
                if t.generalized {
                    tm_year += n;
                } else {
                    tm_year = if n < 50 { n + 100 } else { n };
                }
            }
            2 => tm.mon = n - 1,
            3 => {
                let md = if tm.mon == 1 {
                    MDAYS[1] + i64::from(is_leap(tm_year + 1900))
                } else {
                    MDAYS[usize::try_from(tm.mon).ok()?]
                };
                if n > md {
                    return None;
                }
                tm.mday = n;
            }
            4 => tm.hour = n,
            5 => tm.min = n,
            6 => tm.sec = n,
            _ => {}
        }
        i += 1;
    }
    if t.generalized && at(o) == b'.' {
        o += 1;
        if o == l {
            return None;
        }
        let start = o;
        while o < l && at(o).is_ascii_digit() {
            o += 1;
        }
        if start == o || o == l {
            return None;
        }
    }
    tm.year = tm_year + 1900;
    if at(o) == b'Z' {
        o += 1;
    } else if at(o) == b'+' || at(o) == b'-' {
        let offsign: i64 = if at(o) == b'-' { 1 } else { -1 };
        o += 1;
        if o + 4 != l {
            return None;
        }
        let mut offset: i64 = 0;
        for i in end..end + 2 {
            if !at(o).is_ascii_digit() {
                return None;
            }
            let mut n = i64::from(at(o) - b'0');
            o += 1;
            if !at(o).is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(at(o) - b'0');
            let i2 = if t.generalized { i } else { i + 1 };
            if n < MIN[i2] || n > MAX[i2] {
                return None;
            }
            if i == end {
                offset = n * 3600;
            } else {
                offset += n * 60;
            }
            o += 1;
        }
        if offset != 0 {
            // OPENSSL_gmtime_adj
            let adjusted = Tm::from_unix(tm.unix()? + offset * offsign)?;
            if adjusted.year < 1900 || adjusted.year > 9999 {
                return None;
            }
            tm = adjusted;
        }
    } else {
        return None;
    }
    if o == l {
        Some(tm)
    } else {
        None
    }
}

pub(super) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `ASN1_TIME_print` (`ASN1_DTFLGS_RFC822`).
pub(super) fn asn1_time_print(t: &AsnTime) -> String {
    let tm = match asn1_time_to_tm(t) {
        Some(tm) => tm,
        None => return "Bad time value".into(),
    };
    let v = &t.data;
    let mon = usize::try_from(tm.mon)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("???");
    let mut frac = String::new();
    if t.generalized && v.len() > 15 && v.get(14) == Some(&b'.') {
        frac.push('.');
        let mut k = 15;
        while k < v.len() && v[k].is_ascii_digit() {
            frac.push(char::from(v[k]));
            k += 1;
        }
    }
    // OpenSSL 3.0 converts a `+hhmm`/`-hhmm` offset to GMT and always says so.
    format!(
        "{} {:2} {:02}:{:02}:{:02}{} {} GMT",
        mon, tm.mday, tm.hour, tm.min, tm.sec, frac, tm.year
    )
}

/// mod_ssl `ssl_var_lookup_ssl_cert_remain` (see [`Cert::v_remain`]).
pub(super) fn modssl_remain_days(t: &AsnTime, now: i64) -> i64 {
    /// SPEC §4.2's `tm_mday + 1`; the 2.4.71 measurements show no extra day.
    const MDAY_ADJUST: i64 = 0;
    const DAYOFFSET: [i64; 12] = [306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275];
    let d = &t.data;
    let l = d.len();
    if (!t.generalized && l < 11) || (t.generalized && l < 13) || asn1_time_to_tm(t).is_none() {
        return 0;
    }
    // ASN1_STRING data is NUL-terminated: reading at `l` gives 0.
    let g = |i: usize| i64::from(d.get(i).copied().unwrap_or(0));
    let dig2 = |i: usize| (g(i) - 48) * 10 + (g(i + 1) - 48);
    let (tm_year, dp) = if t.generalized {
        (dig2(0) * 100 + dig2(2) - 1900, 4)
    } else {
        let y = dig2(0);
        (if y <= 50 { y + 100 } else { y }, 2)
    };
    let tm_mon = dig2(dp) - 1;
    let tm_mday = dig2(dp + 2) + MDAY_ADJUST;
    let tm_hour = dig2(dp + 4);
    let tm_min = dig2(dp + 6);
    let tm_sec = dig2(dp + 8);
    // apr_time_exp_gmt_get
    let mon = match usize::try_from(tm_mon) {
        Ok(m) if m < 12 => m,
        _ => return 0,
    };
    let mut year = tm_year;
    if mon < 2 {
        year -= 1;
    }
    let mut days = year * 365 + year / 4 - year / 100 + (year / 100 + 3) / 4;
    days += DAYOFFSET[mon] + tm_mday - 1;
    days -= 25508;
    let then = ((days * 24 + tm_hour) * 60 + tm_min) * 60 + tm_sec;
    if then < 0 {
        return 0;
    }
    let diff = then.saturating_sub(now) / 86400;
    diff.max(0)
}

/// Reads the two times of the Validity SEQUENCE.
pub(super) fn read_validity(validity: &Tlv<'_>) -> Result<(AsnTime, AsnTime), String> {
    if !validity.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
        return Err("validity is not a SEQUENCE".into());
    }
    let times = read_all(validity.content)?;
    if times.len() != 2 {
        return Err("validity does not hold two times".into());
    }
    let mut out = Vec::new();
    for t in &times {
        if t.class != CLASS_UNIVERSAL || t.constructed {
            return Err("time is not a primitive universal type".into());
        }
        let generalized = match t.tag {
            TAG_UTCTIME => false,
            TAG_GENERALIZEDTIME => true,
            _ => {
                return Err(format!(
                    "time has tag {} (not UTCTime/GeneralizedTime)",
                    t.tag
                ))
            }
        };
        out.push(AsnTime {
            generalized,
            data: t.content.to_vec(),
        });
    }
    let na = out.pop().ok_or("missing notAfter")?;
    let nb = out.pop().ok_or("missing notBefore")?;
    Ok((nb, na))
}

/// `X509_cmp_time`'s reading of a certificate time: the exact formats
/// `YYMMDDHHMMSSZ` (UTCTime, 50–99 → 19YY) and `YYYYMMDDHHMMSSZ`
/// (GeneralizedTime), with `ossl_asn1_time_to_tm`'s range checks. Seconds
/// since the epoch; `None` for anything else (no fractions, no offsets).
pub(super) fn cmp_time_seconds(t: &Tlv<'_>) -> Option<i64> {
    let s = t.content;
    let (digits, year_digits) = match (t.identifier()?, s.len()) {
        (0x17, 13) => (&s[..12], 2),
        (0x18, 15) => (&s[..14], 4),
        _ => return None,
    };
    if s[s.len() - 1] != b'Z' || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |i: usize| u32::from(digits[i] - b'0') * 10 + u32::from(digits[i + 1] - b'0');
    let year = if year_digits == 2 {
        let yy = num(0);
        if yy < 50 {
            2000 + yy
        } else {
            1900 + yy
        }
    } else {
        num(0) * 100 + num(2)
    };
    let at = |i: usize| num(year_digits + i);
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, at(0), at(2))?;
    Some(date.and_hms_opt(at(4), at(6), at(8))?.and_utc().timestamp())
}
