//! Variables whose every value is known (`TIME_*`, key sizes, versions,
//! protocols): what length-first comparisons on them really do.

use crate::env::{CertVar, SessionVar, TimeVar, Var};
use crate::syntax::ast::CmpOp;

/// A variable whose every possible value is known, in its natural order.
pub(super) struct Domain {
    pub(super) values: Vec<String>,
    /// Numeric (the values are integers) or an ordered list (protocols).
    pub(super) numeric: bool,
    /// The width every value has, when fixed.
    pub(super) width: Option<usize>,
}

pub(super) fn domain(v: &Var) -> Option<Domain> {
    let nums = |r: std::ops::RangeInclusive<u32>, width: Option<usize>| Domain {
        values: r
            .map(|n| match width {
                Some(w) => format!("{n:0w$}"),
                None => n.to_string(),
            })
            .collect(),
        numeric: true,
        width,
    };
    match v {
        Var::Core(c) => match c.as_time()? {
            TimeVar::Year => Some(nums(1970..=2099, Some(4))),
            TimeVar::Mon => Some(nums(1..=12, Some(2))),
            TimeVar::Day => Some(nums(1..=31, Some(2))),
            TimeVar::Hour => Some(nums(0..=23, Some(2))),
            TimeVar::Min => Some(nums(0..=59, Some(2))),
            TimeVar::Sec => Some(nums(0..=60, Some(2))),
            TimeVar::Wday => Some(nums(0..=6, Some(1))),
            TimeVar::Time => None,
        },
        Var::Session(SessionVar::CipherUseKeySize | SessionVar::CipherAlgKeySize) => Some(Domain {
            values: ["0", "40", "56", "64", "112", "128", "168", "256"]
                .map(String::from)
                .to_vec(),
            numeric: true,
            width: None,
        }),
        Var::Cert(_, CertVar::MVersion) => Some(nums(1..=3, Some(1))),
        Var::Session(SessionVar::Protocol) => Some(Domain {
            values: ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
                .map(String::from)
                .to_vec(),
            numeric: false,
            width: None,
        }),
        Var::Session(SessionVar::ClientVerify) => Some(Domain {
            values: [
                "NONE",
                "SUCCESS",
                "GENEROUS",
                "FAILED:unable to get local issuer certificate",
            ]
            .map(String::from)
            .to_vec(),
            numeric: false,
            width: None,
        }),
        _ => None,
    }
}

pub(super) fn num_cmp(op: CmpOp, a: u128, b: u128) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

pub(super) fn summarize(values: &[&str]) -> String {
    if values.len() <= 6 {
        values.join(", ")
    } else {
        format!(
            "{}, … {} ({} values)",
            values[..3].join(", "),
            values[values.len() - 1],
            values.len()
        )
    }
}
