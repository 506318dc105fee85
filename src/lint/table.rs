//! The lints' table: code, severity, what, an example and its fixed form
//! (the README's table is checked against it).

use super::Severity;
use crate::dialect::Dialect;

/// The documentation of one lint.
#[derive(Clone, Copy, Debug)]
pub struct LintInfo {
    /// The stable code.
    pub code: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// What it finds.
    pub what: &'static str,
    /// An expression that triggers it (2.4 dialect unless the code says
    /// otherwise).
    pub example: &'static str,
    /// The same expression, fixed (does not trigger it).
    pub fixed: &'static str,
    /// The dialect of the example.
    pub dialect: Dialect,
}

/// Every lint, with an example that triggers it and its fixed form (the
/// tests check both).
pub const LINTS: &[LintInfo] = &[
    LintInfo {
        code: "L101",
        severity: Severity::Warning,
        what: "length-first comparison of a variable of known shape (TIME_*, key sizes, certificate version, protocol) against a literal of another length: the verdict differs from the numeric one",
        example: r#"%{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20"#,
        fixed: r#"%{TIME_HOUR} >= "08" and %{TIME_HOUR} <= 20"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L102",
        severity: Severity::Warning,
        what: "ordering comparison of two constants: always the same verdict, and length-first (\"10\" > \"9\", \"b\" < \"aa\")",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and "10" > "9""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L103",
        severity: Severity::Warning,
        what: "unreachable branch: an operand after a constant `true` in `or` (or `false` in `and`) is never evaluated",
        example: r#"true or %{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L104",
        severity: Severity::Warning,
        what: "a test with the same result for every request (a constant comparison, a regex that no value of the variable can match, a test every value passes)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{TIME_WDAY} =~ m/^(1[0-5])$/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{TIME_WDAY} =~ m/^[1-5]$/"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L105",
        severity: Severity::Warning,
        what: "an ordering comparison of a certificate date (SSL_CLIENT_V_START/_V_END): they are text like \"Jan  2 03:04:05 2026 GMT\", so the order is by month name and length, not time",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_V_END} > "Jan  1 00:00:00 2027 GMT""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_V_REMAIN} -ge 30"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L110",
        severity: Severity::Warning,
        what: "a name that always reads \"\" (DN component suffixes are case-sensitive; unknown SSL_* names are accepted): did you mean …",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_email} eq "a@example.com""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_Email} eq "a@example.com""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L111",
        severity: Severity::Note,
        what: "SSL_CLIENT_S_DN_OU is only the first OU of the subject (_OU_1 … are the others); say _OU_0 when the first is meant",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU} eq "Staff""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU_0} eq "Staff""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L112",
        severity: Severity::Warning,
        what: "a whole DN compared with the /C=…/CN=… form: since 2.3.11 SSL_CLIENT_S_DN / _I_DN are RFC 2253 (CN=…,C=…) unless SSLOptions +LegacyDNStringFormat",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN} eq "/C=US/O=Example/CN=alice""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN} eq "CN=alice,O=Example,C=US""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L113",
        severity: Severity::Note,
        what: "PeerExtList/OID matches OpenSSL's printed text of one extension: several values in one string depend on their order and wording",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and "TLS Web Client Authentication, E-mail Protection" in PeerExtList("extendedKeyUsage")"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and "TLS Web Client Authentication" in PeerExtList("extendedKeyUsage")"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L120",
        severity: Severity::Warning,
        what: "identity by DN, SAN, serial or certificate without requiring %{SSL_CLIENT_VERIFY} eq \"SUCCESS\": any CA that copies the names passes (optional_no_ca; GENEROUS over TLS 1.2)",
        example: r#"%{SSL_CLIENT_I_DN_CN} eq "My CA" and %{SSL_CLIENT_S_DN_CN} eq "alice""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and (%{SSL_CLIENT_I_DN_CN} eq "My CA" and %{SSL_CLIENT_S_DN_CN} eq "alice")"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L121",
        severity: Severity::Warning,
        what: "a test on SSL_CLIENT_VERIFY that passes GENEROUS (an unverified chain under optional_no_ca) but not NONE",
        example: r#"%{SSL_CLIENT_VERIFY} =~ m/^(GENEROUS|SUCCESS)$/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L130",
        severity: Severity::Warning,
        what: "a regex that can never match (something required after `$`, which in 2.4 matches only at the very end)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} =~ m/^alice$|^bob$x/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} =~ m/^alice$|^bob$/"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L131",
        severity: Severity::Warning,
        what: "`!~` with a pattern that can hit PCRE's match limit (nested quantifiers, back-references, lookaround): a limit hit counts as \"no match\", so `!~` allows",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{HTTP_USER_AGENT} !~ m/^(a+)+$/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{HTTP_USER_AGENT} !~ m/^a+$/"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L140",
        severity: Severity::Note,
        what: "a construct whose meaning differs between 2.2 and 2.4: %{…} inside a string (2.4 interpolates, 2.2 reads it literally), OID() (2.4: PeerExtList()), unknown non-SSL names (2.2: \"\", 2.4: refused)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq "%{REMOTE_USER}""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq %{REMOTE_USER}"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L150",
        severity: Severity::Note,
        what: "sslrequire's own reading, not Apache's: -F is evaluated as -e (Apache runs a subrequest with access checks)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and -F "/srv/www/index.html""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and -f "/srv/www/index.html""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L160",
        severity: Severity::Warning,
        what: "\"\" in a word list (a lost placeholder): it matches every request where the variable is unset",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU_0} in {"Staff", ""}"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU_0} in {"Staff"}"#,
        dialect: Dialect::V24,
    },
];

/// The documentation of `code`.
pub fn info(code: &str) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.code.eq_ignore_ascii_case(code))
}
