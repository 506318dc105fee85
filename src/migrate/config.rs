//! [`migrate_config`]: the `SSLRequire` lines of an Apache configuration
//! file, rewritten in place of themselves.

use std::fmt::Write as _;

use super::{migrate, MigrateError};
use crate::dialect::Dialect;
use crate::lint::Lint;

/// One rewritten directive.
#[derive(Clone, Debug)]
pub struct ConfigChange {
    /// First line (1-based) of the `SSLRequire` directive.
    pub line: usize,
    /// Its expression.
    pub original: String,
    /// The `Require expr` expression now in its place.
    pub migrated: String,
    /// What the original probably did not mean.
    pub lints: Vec<Lint>,
}

/// An `SSLRequire` left as it was, and why.
#[derive(Clone, Debug)]
pub struct ConfigProblem {
    /// First line (1-based) of the directive.
    pub line: usize,
    /// Why it was not rewritten and what to do.
    pub message: String,
}

/// A configuration file, migrated.
#[derive(Clone, Debug)]
pub struct ConfigMigration {
    /// The new text: every line not rewritten is kept byte for byte.
    pub text: String,
    /// What was rewritten.
    pub changes: Vec<ConfigChange>,
    /// What was not, and why.
    pub problems: Vec<ConfigProblem>,
    /// Rewritten, but worth a look (`Satisfy` in the section).
    pub notes: Vec<ConfigProblem>,
}

/// A logical configuration line: physical lines joined by `\` continuations.
struct Logical {
    /// Index of the first and one past the last physical line.
    first: usize,
    end: usize,
    /// The joined text (continuations removed, no line end).
    text: String,
}

/// The sections whose authorization `Require` lines configure; the
/// conditional ones (`<IfModule>` …) are transparent.
const SECTIONS: &[&str] = &[
    "directory",
    "directorymatch",
    "location",
    "locationmatch",
    "files",
    "filesmatch",
    "if",
    "elseif",
    "else",
    "proxy",
    "proxymatch",
    "virtualhost",
    "limit",
    "limitexcept",
];

#[derive(Default)]
struct Frame {
    kind: String,
    /// Where it opens (1-based).
    open_line: usize,
    ssl_requires: Vec<usize>,
    has_require: bool,
    has_merging: bool,
    /// An `AuthMerging` other than `And`.
    merging_not_and: Option<String>,
    has_satisfy: bool,
}

/// Rewrites every `SSLRequire` of an Apache configuration (or `.htaccess`)
/// text into `Require expr` with the same verdicts. In a section that has
/// no `Require` of its own, `AuthMerging And` is added after it so the
/// section keeps the authorization it inherits (SSLRequire was checked in
/// addition to it; a section's own `Require` would otherwise replace it).
/// Sections that already hold `Require` lines, several `SSLRequire` lines
/// (which all had to hold, while `Require` lines in one section are
/// alternatives) or `<Limit>` are reported and left as they are.
pub fn migrate_config(text: &str, dialect: Dialect) -> ConfigMigration {
    // Physical lines with their endings.
    let physical: Vec<&str> = text.split_inclusive('\n').collect();
    let body = |l: &str| l.trim_end_matches(['\n', '\r']).to_string();
    let mut logical: Vec<Logical> = Vec::new();
    let mut i = 0;
    while i < physical.len() {
        let first = i;
        let mut joined = String::new();
        loop {
            let b = body(physical[i]);
            i += 1;
            match b.strip_suffix('\\') {
                Some(head) if i < physical.len() => joined.push_str(head),
                _ => {
                    joined.push_str(&b);
                    break;
                }
            }
        }
        logical.push(Logical {
            first,
            end: i,
            text: joined,
        });
    }
    // Sections.
    let mut frames: Vec<Frame> = vec![Frame {
        kind: "(top level)".into(),
        ..Frame::default()
    }];
    let mut finished: Vec<Frame> = Vec::new();
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let mut notes: Vec<ConfigProblem> = Vec::new();
    for (k, l) in logical.iter().enumerate() {
        let t = l.text.trim_start();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if let Some(close) = t.strip_prefix("</") {
            let name = close.trim_end_matches('>').trim().to_ascii_lowercase();
            if SECTIONS.contains(&name.as_str()) && frames.len() > 1 {
                finished.push(frames.pop().expect("a frame"));
            }
            continue;
        }
        if let Some(open) = t.strip_prefix('<') {
            let name: String = open
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>')
                .collect::<String>()
                .to_ascii_lowercase();
            if name.starts_with("require") {
                frames.last_mut().expect("a frame").has_require = true;
            } else if SECTIONS.contains(&name.as_str()) {
                frames.push(Frame {
                    kind: name,
                    open_line: l.first + 1,
                    ..Frame::default()
                });
            }
            continue;
        }
        let directive: String = t
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let f = frames.last_mut().expect("a frame");
        match directive.as_str() {
            "sslrequire" => f.ssl_requires.push(k),
            "require" => f.has_require = true,
            "authmerging" => {
                f.has_merging = true;
                let value = t["authmerging".len()..].trim();
                if !value.eq_ignore_ascii_case("and") {
                    f.merging_not_and = Some(value.to_string());
                }
            }
            "satisfy" => f.has_satisfy = true,
            _ => {}
        }
    }
    finished.extend(frames);
    // Decide per SSLRequire.
    let mut replace: std::collections::BTreeMap<usize, (String, bool)> = Default::default();
    let mut changes = Vec::new();
    for f in &finished {
        for &k in &f.ssl_requires {
            let l = &logical[k];
            let line = l.first + 1;
            let t = l.text.trim_start();
            let expr = t["sslrequire".len()..].trim();
            let problem = if f.kind.starts_with("limit") {
                Some(format!("SSLRequire inside <{}>: SSLRequire ignores the method limit, Require inside it would not; move it out of the <Limit> section first", f.kind))
            } else if f.ssl_requires.len() > 1 {
                Some(format!("{} SSLRequire lines in one section must all hold, but Require lines in one section are alternatives (RequireAny): combine them into one SSLRequire (A) and (B) first", f.ssl_requires.len()))
            } else if let Some(m) = &f.merging_not_and {
                Some(format!("this section has AuthMerging {m}: the new Require expr would be combined with the inherited authorization by {m}, while SSLRequire held in addition to it; use AuthMerging And"))
            } else if f.has_require {
                Some("this section also has Require lines: they are alternatives of each other (RequireAny), while SSLRequire had to hold as well; write <RequireAll> Require expr … <RequireAny> (the existing Require lines) </RequireAny> </RequireAll> by hand".to_string())
            } else {
                None
            };
            if let Some(message) = problem {
                problems.push(ConfigProblem { line, message });
                continue;
            }
            match migrate(expr, dialect) {
                Ok(m) => {
                    if f.has_satisfy {
                        notes.push(ConfigProblem {
                            line,
                            message: "this section has Satisfy: under Satisfy Any, host-based access alone now admits a request that SSLRequire (with SSLOptions +StrictRequire) refused; check it".into(),
                        });
                    }
                    replace.insert(k, (m.expr.clone(), !f.has_merging));
                    changes.push(ConfigChange {
                        line,
                        original: expr.to_string(),
                        migrated: m.expr,
                        lints: m.lints,
                    });
                }
                Err(e) => problems.push(ConfigProblem {
                    line,
                    message: match e {
                        MigrateError::Parse(e) => format!(
                            "not a valid SSLRequire expression ({}): {}",
                            e.code(),
                            e.message()
                        ),
                        MigrateError::Unsupported { message, .. } => message,
                    },
                }),
            }
        }
    }
    // Sections with a Require of their own replace what they inherit
    // (AuthMerging Off): one inside a migrated section used to be held to
    // its SSLRequire (mod_ssl merges SSLRequire lines into every section
    // below) and no longer is.
    if !changes.is_empty() {
        for f in &finished {
            let merges_and = f.has_merging && f.merging_not_and.is_none();
            if f.open_line > 0 && f.has_require && f.ssl_requires.is_empty() && !merges_and {
                notes.push(ConfigProblem {
                    line: f.open_line,
                    message: format!(
                        "<{}> has its own Require and no AuthMerging And: if it lies inside a migrated section, the SSLRequire it inherited no longer applies to it; add AuthMerging And there",
                        f.kind
                    ),
                });
            }
        }
    }
    notes.sort_by_key(|n| n.line);
    // Write.
    let mut out = String::with_capacity(text.len() + 64);
    for (k, l) in logical.iter().enumerate() {
        match replace.get(&k) {
            Some((expr, merging)) => {
                let last = physical[l.end - 1];
                let eol = if last.ends_with("\r\n") {
                    "\r\n"
                } else if last.ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                let indent: String = l.text.chars().take_while(|c| c.is_whitespace()).collect();
                let _ = write!(out, "{indent}Require expr {expr}");
                if *merging {
                    let nl = if eol.is_empty() { "\n" } else { eol };
                    let _ = write!(out, "{nl}{indent}AuthMerging And");
                }
                out.push_str(eol);
            }
            None => {
                for p in &physical[l.first..l.end] {
                    out.push_str(p);
                }
            }
        }
    }
    changes.sort_by_key(|c| c.line);
    problems.sort_by_key(|p| p.line);
    ConfigMigration {
        text: out,
        changes,
        problems,
        notes,
    }
}
