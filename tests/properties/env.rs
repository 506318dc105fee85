//! The environment the properties evaluate against: the same values as a
//! [`TestEnv`] (what the reference evaluator reads) and a [`VarMap`] (what
//! the engine reads).

use super::*;

/// Variables the evaluable trees read by name (`SSL_NOPE`: always "").
pub(crate) const NAMED: &[&str] = &[
    "REMOTE_USER",
    "HTTPS",
    "SSL_CLIENT_S_DN_CN",
    "SSL_CIPHER",
    "QUERY_STRING",
];
pub(crate) const EMPTY_NAME: &str = "SSL_NOPE";
/// Request headers (`%{http:h0}`, `req("H1")`; names are case-blind).
pub(crate) const HEADERS: &[&str] = &["h0", "h1"];
/// `PeerExtList` ids.
pub(crate) const EXT_IDS: &[&str] = &["1.2.3", "4.5"];

/// Values chosen to hit the interesting cases (`-T` words, NUL, signed
/// bytes, lengths), and random short byte strings.
pub(crate) const INTERESTING: &[&[u8]] = &[
    b"",
    b"a",
    b"A",
    b"b",
    b"aa",
    b"ok",
    b"okA",
    b"bad",
    b"0",
    b"off",
    b"No",
    b"FALSE",
    b"10",
    b"9",
    b"-1",
    b"\0",
    b"a\0b",
    b"\xff",
    b"\x80a",
    b"\xc3\xa9",
    b"h0",
    b"H1",
    b"1.2.3",
    b"%{",
    b"$1",
    b"\"'\\",
    b"ab\n",
];
pub(crate) const ALPHABET: &[u8] = b"aAbB09 -\0\xff\x80\x7fok\"'\\{}%$\n";

pub(crate) fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(INTERESTING).prop_map(|s| s.to_vec()),
        2 => prop::collection::vec(select(ALPHABET), 0..5),
    ]
}

/// A random environment: each variable and header set or not, up to three
/// extension values.
#[derive(Clone, Debug)]
pub(crate) struct TestEnv {
    pub(crate) named: Vec<Option<Vec<u8>>>,
    pub(crate) headers: Vec<Option<Vec<u8>>>,
    pub(crate) exts: Vec<(usize, Vec<u8>)>,
    /// Extra headers `c0`, `c1` … (the constants of the folding property).
    pub(crate) consts: Vec<Vec<u8>>,
}

pub(crate) fn test_env() -> impl Strategy<Value = TestEnv> {
    (
        prop::collection::vec(prop::option::of(bytes()), NAMED.len()),
        prop::collection::vec(prop::option::of(bytes()), HEADERS.len()),
        prop::collection::vec((0..EXT_IDS.len(), bytes()), 0..3),
    )
        .prop_map(|(named, headers, exts)| TestEnv {
            named,
            headers,
            exts,
            consts: Vec::new(),
        })
}

/// What the engine is evaluated against: the same values in a [`VarMap`],
/// and a `file()` that answers paths starting with `ok` from memory.
pub(crate) struct EngineEnv(VarMap);

pub(crate) fn file_content(path: &[u8]) -> Vec<u8> {
    let mut v = b"<".to_vec();
    v.extend_from_slice(path);
    v.extend_from_slice(b">\0hidden");
    v
}

impl Env for EngineEnv {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        self.0.var(var)
    }
    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        self.0.peer_extensions(id, numeric_only)
    }
    fn files(&self) -> &dyn Files {
        &TestFiles
    }
}

/// `file()` reads `ok*` paths from memory; every other path, and every file
/// test, fails.
#[derive(Debug)]
pub(crate) struct TestFiles;

impl Files for TestFiles {
    fn read(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        if path.starts_with(b"ok") {
            Ok(file_content(path))
        } else {
            Err(ErrorKind::FileOpen {
                path: String::from_utf8_lossy(path).into_owned(),
                reason: "not found (test)".into(),
            })
        }
    }
    fn stat(&self, path: &[u8], _follow: bool) -> Result<Option<FileInfo>, ErrorKind> {
        Err(ErrorKind::FileDenied {
            path: String::from_utf8_lossy(path).into_owned(),
            reason: "test".into(),
        })
    }
}

impl TestEnv {
    pub(crate) fn engine(&self) -> EngineEnv {
        let mut m = VarMap::new();
        for (n, v) in NAMED.iter().zip(&self.named) {
            if let Some(v) = v {
                m.set(n, v.clone()).unwrap();
            }
        }
        for (h, v) in HEADERS.iter().zip(&self.headers) {
            if let Some(v) = v {
                m.set(&format!("http:{h}"), v.clone()).unwrap();
            }
        }
        for (i, v) in self.consts.iter().enumerate() {
            m.set(&format!("http:c{i}"), v.clone()).unwrap();
        }
        for (id, v) in &self.exts {
            m.add_extension(EXT_IDS[*id], v.clone());
        }
        EngineEnv(m)
    }

    pub(crate) fn named(&self, n: &str) -> Vec<u8> {
        NAMED
            .iter()
            .position(|x| *x == n)
            .and_then(|i| self.named[i].clone())
            .map(|v| cstr(&v).to_vec())
            .unwrap_or_default()
    }

    pub(crate) fn header(&self, h: &[u8]) -> Vec<u8> {
        // Header names compare case-blind; `cN` are the folding constants.
        let v = if let Some(i) = HEADERS
            .iter()
            .position(|x| x.as_bytes().eq_ignore_ascii_case(h))
        {
            self.headers[i].clone()
        } else {
            (0..self.consts.len())
                .find(|i| format!("c{i}").as_bytes().eq_ignore_ascii_case(h))
                .map(|i| self.consts[i].clone())
        };
        v.map(|v| cstr(&v).to_vec()).unwrap_or_default()
    }
}
