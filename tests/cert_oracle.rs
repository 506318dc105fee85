//! Differential test against OpenSSL itself: tests/openssl-oracle/openssl_oracle.json was
//! produced by tests/openssl-oracle/gen_oracle.py, which builds edge-case certificates and
//! asks libcrypto (OpenSSL 3.0.19 through ctypes) for every string mod_ssl would
//! compute, reproducing mod_ssl 2.4's glue around the OpenSSL calls.

use serde_json::Value;
use sslrequire::env::cert::{Cert, DnAttr, NameKind, SanKind};
use std::collections::BTreeMap;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    compared: usize,
}

impl Checker {
    fn check<T: PartialEq + std::fmt::Debug>(
        &mut self,
        case: &str,
        what: &str,
        ours: T,
        theirs: T,
    ) {
        self.compared += 1;
        if ours != theirs {
            self.failures.push(format!(
                "[{case}] {what}: ours {ours:?} != OpenSSL {theirs:?}"
            ));
        }
    }
}

#[test]
fn openssl_oracle() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/openssl-oracle/openssl_oracle.json"
    );
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let mut ck = Checker::default();
    for case in data["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let der = unhex(case["der"].as_str().expect("der"));
        let parsed = Cert::from_der(&der);
        if let Some(why) = case["known_diff"].as_str() {
            // Deliberate, documented exception: x509-parser is stricter than OpenSSL
            // here, so the module returns an error for a certificate Apache would take.
            ck.check(
                name,
                &format!("known difference ({why})"),
                parsed.is_err(),
                true,
            );
            continue;
        }
        if case["openssl_rejects"].as_bool() == Some(true) {
            ck.check(name, "rejected", parsed.is_err(), true);
            continue;
        }
        let cert = match parsed {
            Ok(c) => c,
            Err(e) => {
                ck.check(name, "accepted", format!("{e}"), String::new());
                continue;
            }
        };
        let f = &case["facts"];
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        ck.check(name, "m_version", cert.m_version(), s(&f["m_version"]));
        ck.check(name, "m_serial", cert.m_serial(), s(&f["m_serial"]));
        ck.check(name, "v_start", cert.v_start(), s(&f["v_start"]));
        ck.check(name, "v_end", cert.v_end(), s(&f["v_end"]));
        ck.check(name, "a_sig", cert.a_sig(), s(&f["a_sig"]));
        ck.check(name, "a_key", cert.a_key(), s(&f["a_key"]));
        ck.check(name, "pem", cert.pem(), s(&f["pem"]));
        ck.check(
            name,
            "cea",
            hexs(cert.rfc4523_cea().as_bytes()),
            s(&f["cea"]),
        );
        let export: BTreeMap<String, Vec<u8>> = cert
            .export_vars("SSL_CLIENT", 0, false)
            .into_iter()
            .collect();
        let export_srv: BTreeMap<String, Vec<u8>> = cert
            .export_vars("SSL_SERVER", 0, false)
            .into_iter()
            .collect();
        for (which, w) in [(NameKind::Subject, "s"), (NameKind::Issuer, "i")] {
            let part = if w == "s" { "S_DN" } else { "I_DN" };
            ck.check(
                name,
                &format!("{w}_dn"),
                hexs(&cert.dn_bytes(which, false)),
                s(&f[format!("{w}_dn")]),
            );
            ck.check(
                name,
                &format!("{w}_dn_legacy"),
                hexs(&cert.dn_bytes(which, true)),
                s(&f[format!("{w}_dn_legacy")]),
            );
            let comps = f[format!("{w}_components")]
                .as_object()
                .expect("components");
            // The fixture wraps mod_ssl's older component table, without
            // SerialNumber (2.5.4.5); Apache 2.4.71 has it (measured by
            // tests/apache_live.rs), so it is left out of this comparison.
            for attr in DnAttr::ALL
                .into_iter()
                .filter(|a| *a != DnAttr::SerialNumber)
            {
                let list = comps
                    .get(attr.var_name())
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for i in 0..=list.len() {
                    for (raw, col) in [(false, 0), (true, 1)] {
                        let ours = cert.dn_component(which, attr, i, raw).map(|v| hexs(&v));
                        let theirs = list.get(i).map(|pair| s(&pair[col]));
                        ck.check(
                            name,
                            &format!("{part}_{}[{i}] raw={raw}", attr.var_name()),
                            ours,
                            theirs,
                        );
                    }
                }
            }
            let theirs: BTreeMap<String, String> = f[format!("{w}_export")]
                .as_object()
                .expect("export")
                .iter()
                .map(|(k, v)| (format!("SSL_CLIENT_{part}_{k}"), s(v)))
                .collect();
            let ours: BTreeMap<String, String> = export
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("SSL_CLIENT_{part}_")))
                .filter(|(k, _)| !k.ends_with("_SerialNumber"))
                .map(|(k, v)| (k.clone(), hexs(v)))
                .collect();
            ck.check(name, &format!("{part} export"), ours, theirs);
        }
        for (kind, label) in [
            (SanKind::Email, "Email"),
            (SanKind::Dns, "DNS"),
            (SanKind::MsUpn, "OTHER_msUPN"),
            (SanKind::DnsSrv, "OTHER_dnsSRV"),
        ] {
            let sf = &f["san"][label];
            for (i, want) in sf["idx"].as_array().expect("idx").iter().enumerate() {
                let ours = cert.san_bytes(kind, i).map(|v| hexs(&v));
                let theirs = want.as_str().map(str::to_string);
                ck.check(name, &format!("SAN {label}[{i}]"), ours, theirs);
            }
            let theirs: Vec<String> = sf["all"]
                .as_array()
                .map(|a| a.iter().map(s).collect())
                .unwrap_or_default();
            let (prefix, map) = if kind == SanKind::DnsSrv {
                ("SSL_SERVER", &export_srv)
            } else {
                ("SSL_CLIENT", &export)
            };
            let ours: Vec<String> = (0..)
                .map_while(|i| {
                    map.get(&format!("{prefix}_SAN_{label}_{i}"))
                        .map(|v| hexs(v))
                })
                .collect();
            ck.check(name, &format!("SAN {label} export"), ours, theirs);
        }
        if let Some(exts) = f["ext"].as_object() {
            for (id, modes) in exts {
                for (mode, numeric) in [("2.4", false), ("2.2", true)] {
                    let theirs: Vec<String> = modes[mode]
                        .as_array()
                        .expect("mode")
                        .iter()
                        .map(s)
                        .collect();
                    let ours: Vec<String> = cert
                        .extension_values(id, numeric)
                        .iter()
                        .map(|v| hexs(v))
                        .collect();
                    let show = |v: &[String]| {
                        v.iter()
                            .map(|h| String::from_utf8_lossy(&unhex(h)).into_owned())
                            .collect::<Vec<_>>()
                    };
                    ck.check(
                        name,
                        &format!("ext {id:?} ({mode})"),
                        show(&ours),
                        show(&theirs),
                    );
                }
            }
        }
    }
    eprintln!("{} comparisons with OpenSSL", ck.compared);
    assert!(ck.compared > 3000, "only {} comparisons", ck.compared);
    assert!(
        ck.failures.is_empty(),
        "{} mismatches with OpenSSL:\n{}",
        ck.failures.len(),
        ck.failures.join("\n")
    );
}
