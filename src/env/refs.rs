//! [`VarRefs`]: variables set by name, as in [`VarMap`](super::VarMap), over
//! values the caller already holds — per request, nothing is copied.

use smallvec::SmallVec;

use super::{read_by_name, with_input_var, Env, Table, UnknownVariable, Var};

/// A request's variables set by name, borrowed: what a proxy builds per
/// request when it does not lay its names out for one program
/// ([`Program::layout`](crate::Program::layout)).
///
/// Names resolve exactly as in [`VarMap::set`](super::VarMap::set)
/// (Apache's rules, `http:Name` for request headers …), each name once per
/// thread; the values are borrowed, not copied. Reading is by a number per
/// variable, so a request of twenty variables costs twenty short scans.
/// For certificate extensions and `file()`, layer it under a
/// [`SessionEnv`](crate::session::SessionEnv) (`with_request`) or use a
/// `VarMap`.
///
/// ```
/// use sslrequire::{Machine, Program, VarRefs};
///
/// let program = Program::new(r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{REMOTE_ADDR} == "10.0.0.1""#)?;
/// let mut machine = Machine::new();
/// // Per request, over values the request already holds:
/// let (verify, addr) = (String::from("SUCCESS"), String::from("10.0.0.1"));
/// let mut env = VarRefs::new();
/// env.set("SSL_CLIENT_VERIFY", &verify)?.set("REMOTE_ADDR", &addr)?;
/// assert!(program.eval_with(&mut machine, &env)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct VarRefs<'a> {
    /// Every variable but table entries, by [`Var::key`], each with the
    /// index + 1 of the one set before it in its bucket (0: none).
    vars: SmallVec<[(u64, &'a [u8], u32); 24]>,
    /// Per bucket of keys, the index + 1 of the last one set (0: none), so
    /// a read looks at the variables of one bucket, newest first.
    buckets: [u32; BUCKETS],
    /// Request-table entries (headers, notes, environments), their names
    /// kept inline when short.
    entries: SmallVec<[Entry<'a>; 4]>,
}

/// A request-table entry: table, name (inline when short), value.
type Entry<'a> = (Table, SmallVec<[u8; 24]>, &'a [u8]);

const BUCKETS: usize = 32;

/// The bucket of a key (its bits mixed: keys differ in a few low bits).
fn bucket(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59) as usize % BUCKETS
}

impl<'a> VarRefs<'a> {
    /// An empty environment: every variable unset.
    pub fn new() -> VarRefs<'a> {
        VarRefs::default()
    }

    /// Sets a variable by name to a borrowed value; names as in
    /// [`VarMap::set`](super::VarMap::set). A later value for the same
    /// variable (a header under any spelling) replaces an earlier one.
    ///
    /// # Errors
    /// A name that no expression could read.
    pub fn set<V: AsRef<[u8]> + ?Sized>(
        &mut self,
        name: &str,
        value: &'a V,
    ) -> Result<&mut VarRefs<'a>, UnknownVariable> {
        let value = value.as_ref();
        with_input_var(name, |var, key| self.push(var, key, value))?;
        Ok(self)
    }

    /// Sets a resolved variable (request headers are one table, as in
    /// [`VarMap::insert`](super::VarMap::insert)).
    pub fn insert(&mut self, var: Var, value: &'a [u8]) -> &mut VarRefs<'a> {
        let var = super::canonical(var);
        self.push(&var, var.key(), value);
        self
    }

    /// Stores a canonical variable whose key is `key`.
    fn push(&mut self, var: &Var, key: Option<u64>, value: &'a [u8]) {
        match (key, var) {
            (Some(key), _) => {
                let b = bucket(key);
                self.vars.push((key, value, self.buckets[b]));
                self.buckets[b] = self.vars.len() as u32;
            }
            (None, Var::Lookup(table, name)) => {
                let name = SmallVec::from_slice(name.as_bytes());
                self.entries.push((*table, name, value));
            }
            (None, var) => unreachable!("{var} has a key"),
        }
    }

    /// Unsets every variable, keeping the space (to reuse across requests
    /// whose values live as long).
    pub fn clear(&mut self) {
        self.vars.clear();
        self.buckets = [0; BUCKETS];
        self.entries.clear();
    }

    /// The last value set under `key`.
    fn keyed(&self, key: u64) -> Option<&'a [u8]> {
        let mut at = self.buckets[bucket(key)];
        while let Some(&(k, v, prev)) = self.vars.get((at as usize).wrapping_sub(1)) {
            if k == key {
                return Some(v);
            }
            at = prev;
        }
        None
    }

    fn entry(&self, table: Table, name: &str) -> Option<&'a [u8]> {
        self.entries
            .iter()
            .rev()
            .find(|(t, n, _)| *t == table && n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, _, v)| *v)
    }
}

impl Env for VarRefs<'_> {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        read_by_name(
            var,
            |table, name| self.entry(table, name),
            |var| self.keyed(var.key()?),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{CoreVar, Env, SessionVar, VarMap};
    use crate::Dialect;

    #[test]
    fn reads_as_a_var_map_does() {
        let sets: &[(&str, &str)] = &[
            ("ssl_protocol", "TLSv1.3"),
            ("HTTP:X-Foo", "bar"),
            ("note:who", "x"),
            ("HTTP_USER_AGENT", "curl/8"),
            ("req:User-Agent", "wget"),
            ("reqenv:SCRIPT_NAME", "/env"),
            ("SSL_CLIENT_S_DN_CN", "alice"),
            ("SSL_CLIENT_S_DN_OU_2_RAW", "ou"),
            ("SSL_SERVER_SAN_DNS_3", "dns"),
            ("SSL_CLIENT_CERT_CHAIN_1", "pem"),
            ("SSL_PROTOCOL", "TLSv1.2"),
        ];
        let (mut refs, mut map) = (VarRefs::new(), VarMap::new());
        for (n, v) in sets {
            refs.set(n, v).unwrap();
            map.set(n, *v).unwrap();
        }
        let probes = [
            Var::Session(SessionVar::Protocol),
            Var::Lookup(Table::RequestHeader, "x-foo".into()),
            Var::Lookup(Table::Note, "WHO".into()),
            Var::Lookup(Table::RequestHeader, "user-agent".into()),
            Var::Core(CoreVar::lookup("HTTP_USER_AGENT", Dialect::V24).unwrap()),
            Var::Lookup(Table::Env, "script_name".into()),
            Var::Core(CoreVar::REMOTE_ADDR),
        ];
        let named = ["SSL_CLIENT_S_DN_CN", "SSL_CLIENT_S_DN_OU_2_RAW"];
        let named = named.map(|n| crate::env::input_var(n).unwrap());
        for var in probes.iter().chain(&named) {
            assert_eq!(refs.var(var), map.var(var), "{var}");
        }
        assert_eq!(refs.var(&probes[0]), Some(&b"TLSv1.2"[..]));
        assert!(refs.set("SSL_BOGUS", "x").is_err());
        refs.clear();
        assert_eq!(refs.var(&probes[0]), None);
    }

    #[test]
    fn keys_name_one_variable_each() {
        let names = [
            "HTTPS",
            "REMOTE_ADDR",
            "SSL_CIPHER",
            "SSL_CLIENT_VERIFY",
            "SSL_CLIENT_S_DN",
            "SSL_CLIENT_I_DN",
            "SSL_SERVER_S_DN",
            "SSL_CLIENT_S_DN_CN",
            "SSL_CLIENT_S_DN_CN_1",
            "SSL_CLIENT_S_DN_CN_RAW",
            "SSL_CLIENT_I_DN_CN",
            "SSL_CLIENT_S_DN_O",
            "SSL_CLIENT_SAN_DNS_0",
            "SSL_CLIENT_SAN_Email_0",
            "SSL_CLIENT_SAN_DNS_1",
            "SSL_CLIENT_M_SERIAL",
            "SSL_CLIENT_CERT",
            "SSL_SERVER_CERT",
            "SSL_CLIENT_CERT_CHAIN_0",
            "SSL_CLIENT_CERT_CHAIN_1",
            "TIME_HOUR",
        ];
        let keys: Vec<u64> = names
            .iter()
            .map(|n| crate::env::input_var(n).unwrap().key().unwrap())
            .collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{keys:x?}");
    }
}
