//! What a certificate variable selects: subject or issuer ([`NameKind`]),
//! a DN attribute type ([`DnAttr`]), a subjectAltName type ([`SanKind`]).
//! The variable names that map onto them are `env::var`'s.

use super::objects::OBJECTS;

/// Subject or issuer name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum NameKind {
    /// `S_DN`.
    Subject,
    /// `I_DN`.
    Issuer,
}

/// The DN attribute types mod_ssl exposes as `…_DN_<c>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DnAttr {
    /// `C` countryName.
    C,
    /// `ST` (alias `SP`) stateOrProvinceName.
    ST,
    /// `L` localityName.
    L,
    /// `O` organizationName.
    O,
    /// `OU` organizationalUnitName.
    OU,
    /// `CN` commonName.
    CN,
    /// `T` title.
    T,
    /// `I` initials.
    I,
    /// `G` givenName.
    G,
    /// `S` surname.
    S,
    /// `D` description.
    D,
    /// `UID` userId.
    UID,
    /// `Email` pkcs9 emailAddress.
    Email,
    /// `SerialNumber` serialNumber (2.5.4.5), which Apache 2.4.71 exports.
    SerialNumber,
}

/// subjectAltName entry types (`SAN_Email_n`, `SAN_DNS_n`,
/// `SAN_OTHER_msUPN_n`, `SAN_OTHER_dnsSRV_n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SanKind {
    /// rfc822Name.
    Email,
    /// dNSName.
    Dns,
    /// otherName Microsoft UPN (UTF8String).
    MsUpn,
    /// otherName SRVName (IA5String).
    DnsSrv,
}

impl DnAttr {
    /// All attributes, in mod_ssl's table order.
    pub const ALL: [DnAttr; 14] = [
        DnAttr::C,
        DnAttr::ST,
        DnAttr::L,
        DnAttr::O,
        DnAttr::OU,
        DnAttr::CN,
        DnAttr::T,
        DnAttr::I,
        DnAttr::G,
        DnAttr::S,
        DnAttr::D,
        DnAttr::UID,
        DnAttr::Email,
        DnAttr::SerialNumber,
    ];

    /// The `<c>` of `SSL_*_S_DN_<c>` (case-sensitive in mod_ssl).
    pub fn var_name(self) -> &'static str {
        match self {
            DnAttr::C => "C",
            DnAttr::ST => "ST",
            DnAttr::L => "L",
            DnAttr::O => "O",
            DnAttr::OU => "OU",
            DnAttr::CN => "CN",
            DnAttr::T => "T",
            DnAttr::I => "I",
            DnAttr::G => "G",
            DnAttr::S => "S",
            DnAttr::D => "D",
            DnAttr::UID => "UID",
            DnAttr::Email => "Email",
            DnAttr::SerialNumber => "SerialNumber",
        }
    }

    /// The attribute type's row in the object table (every one has a NID;
    /// a test checks it).
    pub(super) fn obj(self) -> Option<usize> {
        OBJECTS.binary_search_by(|row| row.0.cmp(self.oid())).ok()
    }

    /// The attribute type's OID, dotted.
    pub(super) fn oid(self) -> &'static str {
        match self {
            DnAttr::C => "2.5.4.6",
            DnAttr::ST => "2.5.4.8",
            DnAttr::L => "2.5.4.7",
            DnAttr::O => "2.5.4.10",
            DnAttr::OU => "2.5.4.11",
            DnAttr::CN => "2.5.4.3",
            DnAttr::T => "2.5.4.12",
            DnAttr::I => "2.5.4.43",
            DnAttr::G => "2.5.4.42",
            DnAttr::S => "2.5.4.4",
            DnAttr::D => "2.5.4.13",
            DnAttr::UID => "0.9.2342.19200300.100.1.1",
            DnAttr::Email => "1.2.840.113549.1.9.1",
            DnAttr::SerialNumber => "2.5.4.5",
        }
    }
}

impl SanKind {
    pub(super) fn var_suffix(self) -> &'static str {
        match self {
            SanKind::Email => "SAN_Email",
            SanKind::Dns => "SAN_DNS",
            SanKind::MsUpn => "SAN_OTHER_msUPN",
            SanKind::DnsSrv => "SAN_OTHER_dnsSRV",
        }
    }
}
