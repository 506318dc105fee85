//! The policy file every server reads: TOML, one SSLRequire expression per
//! rule, every expression compiled when the file is loaded.
//!
//! ```toml
//! dialect = "2.4"                # or "2.2"
//! on_error = "DEFER_IF_PERMIT 4.7.0 policy evaluation error"
//! default = "DUNNO"              # when no rule answers
//!
//! [[rule]]
//! name = "trusted-staff"
//! states = ["RCPT"]              # which requests it sees (default: all)
//! listeners = ["smtp"]           # which listeners (default: all)
//! require = '%{SSL_CLIENT_VERIFY} eq "SUCCESS"'
//! allow = "DUNNO"                # answer when the expression is true
//! deny = "REJECT 5.7.1 client certificate required"
//! ```
//!
//! What an answer may be and what a state is belong to the server
//! ([`Protocol`]); the file, its compilation, its diagnostics and the order
//! in which rules answer ([`Policy::decide`]) are shared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sslrequire::{Dialect, Machine, Program, ProgramBuilder};

/// What a server checks in a policy file beyond the expressions.
pub trait Protocol {
    /// The default `on_error` answer.
    fn default_on_error(&self) -> &'static str;
    /// The default `default` answer (no rule answered).
    fn default_answer(&self) -> &'static str;
    /// The default answer of a rule whose expression is true.
    fn default_allow(&self) -> &'static str;
    /// The default answer of a rule whose expression is false.
    fn default_deny(&self) -> &'static str;
    /// `Err(why)` for an answer the server cannot send.
    fn check_answer(&self, answer: &str) -> Result<(), String>;
    /// `Err(why)` for a state no request of this server has.
    fn check_state(&self, state: &str) -> Result<(), String>;
    /// The policy-file key of a rule's states: `states` (Postfix's
    /// protocol_state) or `protocols` (nginx's request kinds).
    fn states_key(&self) -> &'static str {
        "states"
    }
    /// `Err(why)` for a rule's `locations` entry (a URI prefix); servers
    /// without URIs refuse the key.
    fn check_location(&self, location: &str) -> Result<(), String> {
        let _ = location;
        Err("`locations` (URI prefixes) is a key of `serve nginx` rules only".into())
    }
    /// `Err(why)` for the policy's `[backends]` table; servers without
    /// backends refuse it.
    fn check_backends(&self, backends: &BTreeMap<String, String>) -> Result<(), String> {
        if backends.is_empty() {
            Ok(())
        } else {
            Err("[backends] is a table of `serve nginx` policies only".into())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    dialect: Option<String>,
    #[serde(default)]
    on_error: Option<String>,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    backends: BTreeMap<String, String>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    require: String,
    #[serde(default)]
    states: Vec<String>,
    #[serde(default)]
    protocols: Vec<String>,
    #[serde(default)]
    listeners: Vec<String>,
    #[serde(default)]
    locations: Vec<String>,
    #[serde(default)]
    allow: Option<String>,
    #[serde(default)]
    deny: Option<String>,
}

/// A loaded, fully compiled policy file.
#[derive(Debug)]
pub struct Policy {
    /// Where it was read from.
    pub path: PathBuf,
    pub dialect: Dialect,
    pub on_error: String,
    pub default: String,
    /// The `[backends]` table (`serve nginx`: mail protocol → `host:port`).
    pub backends: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
}

/// One rule.
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub program: Program,
    /// Upper-case states; empty = every state.
    pub states: Vec<String>,
    /// Listener names; empty = every listener.
    pub listeners: Vec<String>,
    /// URI prefixes (`serve nginx`); empty = every request.
    pub locations: Vec<String>,
    pub allow: String,
    pub deny: String,
}

impl Rule {
    /// Whether this rule sees a request in `state` on `listener`.
    pub fn applies(&self, state: &str, listener: &str) -> bool {
        (self.states.is_empty() || self.states.iter().any(|s| s.eq_ignore_ascii_case(state)))
            && (self.listeners.is_empty() || self.listeners.iter().any(|l| l == listener))
    }

    /// Whether this rule sees a request for `path` (a decoded URI path;
    /// None: a request without one). A location is a plain prefix, as
    /// nginx's `location /prefix` and Apache's `<Location /prefix>`.
    pub fn applies_to_path(&self, path: Option<&[u8]>) -> bool {
        self.locations.is_empty()
            || path.is_some_and(|p| self.locations.iter().any(|l| p.starts_with(l.as_bytes())))
    }
}

/// The outcome of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The rule that answered (`-`: none did).
    pub rule: String,
    /// `allow`, `deny`, `error` (evaluation or request error), `none`.
    pub verdict: &'static str,
    /// The answer, as the policy file wrote it.
    pub action: String,
    /// The error, for the log.
    pub error: Option<String>,
}

impl Decision {
    /// The policy's `on_error` answer, for `why`.
    pub fn error(policy: &Policy, why: String) -> Decision {
        Decision {
            rule: "-".into(),
            verdict: "error",
            action: policy.on_error.clone(),
            error: Some(why),
        }
    }
}

impl Policy {
    /// Decides one request: `rules` (those that apply to it) run in file
    /// order; the first answer other than `DUNNO` is the answer (as
    /// Postfix's own restriction lists, and as Apache's SSLRequire lines,
    /// which must all hold, when rules pass with `DUNNO`); when all say
    /// `DUNNO`, the policy's `default`. An evaluation error answers the
    /// policy's `on_error` at once.
    pub fn decide<'a>(
        &'a self,
        rules: impl Iterator<Item = &'a Rule>,
        machine: &mut Machine,
        env: &dyn sslrequire::Env,
    ) -> Decision {
        let mut last: Option<(&str, &'static str)> = None;
        for rule in rules {
            let (verdict, action) = match rule.program.eval_with(machine, env) {
                Ok(true) => ("allow", &rule.allow),
                Ok(false) => ("deny", &rule.deny),
                Err(e) => {
                    return Decision {
                        rule: rule.name.clone(),
                        verdict: "error",
                        action: self.on_error.clone(),
                        error: Some(format!("{}: {}", e.code(), e.message())),
                    }
                }
            };
            if !is_dunno(action) {
                return Decision {
                    rule: rule.name.clone(),
                    verdict,
                    action: action.clone(),
                    error: None,
                };
            }
            last = Some((&rule.name, verdict));
        }
        let (rule, verdict) = last.unwrap_or(("-", "none"));
        Decision {
            rule: rule.into(),
            verdict,
            action: self.default.clone(),
            error: None,
        }
    }
}

/// Whether an answer passes the request on to the next rule.
pub fn is_dunno(answer: &str) -> bool {
    answer.trim().eq_ignore_ascii_case("DUNNO")
}

/// Reads and compiles `path`. `listeners` are the names a rule may give.
///
/// # Errors
/// A message naming the file, the rule and what to change: unreadable file,
/// TOML error (with its line), unknown dialect, an expression that does not
/// compile (the library's caret diagnostic), a bad answer, state or
/// listener.
pub fn load(path: &Path, protocol: &dyn Protocol, listeners: &[String]) -> Result<Policy, String> {
    let file = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("policy file {file}: cannot read it: {e}"))?;
    let raw: RawPolicy = toml::from_str(&text)
        .map_err(|e| format!("policy file {file}: not a valid policy: {e}"))?;
    let dialect: Dialect = raw
        .dialect
        .as_deref()
        .unwrap_or("2.4")
        .parse()
        .map_err(|e| {
            format!("policy file {file}: dialect: {e} (write dialect = \"2.4\" or \"2.2\")")
        })?;
    let answer = |what: &str, value: Option<String>, default: &str| -> Result<String, String> {
        let value = value.unwrap_or_else(|| default.to_string());
        protocol
            .check_answer(&value)
            .map_err(|e| format!("policy file {file}: {what}: {e}"))?;
        Ok(value)
    };
    let on_error = answer("on_error", raw.on_error, protocol.default_on_error())?;
    let default = answer("default", raw.default, protocol.default_answer())?;
    protocol
        .check_backends(&raw.backends)
        .map_err(|e| format!("policy file {file}: [backends]: {e}"))?;
    if raw.rule.is_empty() {
        return Err(format!(
            "policy file {file}: no rules: add at least one [[rule]] with a name and a require expression"
        ));
    }
    let mut builder = ProgramBuilder::new();
    builder.dialect(dialect);
    let mut rules = Vec::with_capacity(raw.rule.len());
    for (i, r) in raw.rule.into_iter().enumerate() {
        let at = format!("policy file {file}: rule {} (`{}`)", i + 1, r.name);
        if r.name.trim().is_empty() {
            return Err(format!(
                "{at}: the name is empty: give every rule a name (it is logged)"
            ));
        }
        if rules.iter().any(|x: &Rule| x.name == r.name) {
            return Err(format!(
                "{at}: a rule of this name comes earlier: names must be unique"
            ));
        }
        let program = builder
            .build(&r.require)
            .map_err(|e| format!("{at}: the require expression does not compile:\n{e}"))?;
        let key = protocol.states_key();
        let (states, other, other_key) = if key == "states" {
            (r.states, r.protocols, "protocols")
        } else {
            (r.protocols, r.states, "states")
        };
        if !other.is_empty() {
            return Err(format!(
                "{at}: `{other_key}` is not a key of this server's rules: write `{key}`"
            ));
        }
        for s in &states {
            protocol
                .check_state(s)
                .map_err(|e| format!("{at}: {key}: {e}"))?;
        }
        for l in &r.locations {
            protocol
                .check_location(l)
                .map_err(|e| format!("{at}: locations: {e}"))?;
        }
        for l in &r.listeners {
            if !listeners.iter().any(|x| x == l) {
                return Err(format!(
                    "{at}: listeners: no listener is named `{l}` (the listeners are: {}; name one with --listen NAME=ADDR)",
                    listeners.join(", ")
                ));
            }
        }
        rules.push(Rule {
            allow: answer(
                &format!("rule `{}`: allow", r.name),
                r.allow,
                protocol.default_allow(),
            )?,
            deny: answer(
                &format!("rule `{}`: deny", r.name),
                r.deny,
                protocol.default_deny(),
            )?,
            name: r.name,
            program,
            states: states.iter().map(|s| s.to_ascii_uppercase()).collect(),
            listeners: r.listeners,
            locations: r.locations,
        });
    }
    Ok(Policy {
        path: path.to_path_buf(),
        dialect,
        on_error,
        default,
        backends: raw.backends,
        rules,
    })
}
