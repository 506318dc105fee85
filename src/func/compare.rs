//! The comparison operators of SSLRequire (`==`, `<`, `-lt`, … every
//! spelling, both dialects): mod_ssl's length-first `strcmplex`.

use crate::syntax::CmpOp;

/// mod_ssl's `strcmplex`: the longer string is greater; at equal length the
/// first differing byte decides, bytes compared as C `char` — signed on
/// x86-64 (as Apache 2.4.71 was measured), so bytes ≥ 0x80 sort below ASCII.
#[inline]
pub fn strcmplex(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        for (x, y) in a.iter().zip(b) {
            if x != y {
                return (*x as i8).cmp(&(*y as i8));
            }
        }
        std::cmp::Ordering::Equal
    })
}

/// A comparison as SSLRequire does it (every spelling, both dialects).
#[inline]
pub(crate) fn compare(op: CmpOp, a: &[u8], b: &[u8]) -> bool {
    use std::cmp::Ordering::*;
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => strcmplex(a, b) == Less,
        CmpOp::Le => strcmplex(a, b) != Greater,
        CmpOp::Gt => strcmplex(a, b) == Greater,
        CmpOp::Ge => strcmplex(a, b) != Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn strcmplex_is_length_first_and_signed() {
        assert_eq!(strcmplex(b"10", b"9"), Greater);
        assert_eq!(strcmplex(b"b", b"aa"), Less);
        assert_eq!(strcmplex(b"", b"a"), Less);
        assert_eq!(strcmplex(b"abc", b"abd"), Less);
        assert_eq!(strcmplex("é".as_bytes(), b"ab"), Less);
        assert_eq!(strcmplex(b"-1", b"1"), Greater);
    }
}
