use super::keylog::unhex;
use super::tcp::*;
use super::tls13::*;
use super::*;
use ring::hkdf;

#[test]
fn key_log_lines() {
    let k = KeyLog::parse("# comment\nCLIENT_HANDSHAKE_TRAFFIC_SECRET 0a0b 0c0d\nSERVER_HANDSHAKE_TRAFFIC_SECRET 0a0b 0e0f\nCLIENT_RANDOM 00 11\n").unwrap();
    assert_eq!(k.len(), 1);
    assert!(KeyLog::parse("CLIENT_HANDSHAKE_TRAFFIC_SECRET zz 00")
        .unwrap_err()
        .starts_with("line 1:"));
    assert!(KeyLog::parse("\nBOGUS 00 00")
        .unwrap_err()
        .starts_with("line 2: unknown label"));
}

#[test]
fn hkdf_expand_label_matches_rfc8448() {
    // RFC 8448 §3 (simple 1-RTT): server handshake traffic secret → key, iv.
    let secret = unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38").unwrap();
    let mut key = [0u8; 16];
    let mut iv = [0u8; 12];
    expand_label(hkdf::HKDF_SHA256, &secret, "key", &mut key).unwrap();
    expand_label(hkdf::HKDF_SHA256, &secret, "iv", &mut iv).unwrap();
    assert_eq!(
        key.to_vec(),
        unhex("3fce516009c21727d0f2e4e86ee403bc").unwrap()
    );
    assert_eq!(iv.to_vec(), unhex("5d313eb2671276ee13000b30").unwrap());
}

#[test]
fn streams_reassemble_out_of_order_and_bound() {
    let mut s = Stream {
        start: Some(u32::MAX - 1),
        ..Stream::default()
    };
    s.add(2, b"cd").unwrap(); // wraps: offset 4
    s.add(u32::MAX - 1, b"ab").unwrap();
    assert_eq!(s.data, b"ab");
    s.add(0, b"xc").unwrap(); // offset 2: fills the gap
    assert_eq!(s.data, b"abxccd");
    let big = vec![0u8; MAX_STREAM];
    assert!(s.add(5u32.wrapping_add(u32::MAX - 1), &big).is_err());
}

/// A pcap file of Ethernet/IPv4/TCP packets: (from client?, seq, flags
/// "S"/"A"/"F"/"R", payload).
fn pcap(packets: &[(bool, u32, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [
        0xa1b2c3d4u32.to_le_bytes().to_vec(),
        vec![2, 0, 4, 0],
        vec![0; 8],
        65535u32.to_le_bytes().to_vec(),
        1u32.to_le_bytes().to_vec(),
    ] {
        out.extend(v);
    }
    for (i, (from_client, seq, flags, payload)) in packets.iter().enumerate() {
        let (sp, dp, sa, da) = if *from_client {
            (40000, 443, [10, 0, 0, 1], [10, 0, 0, 2])
        } else {
            (443, 40000, [10, 0, 0, 2], [10, 0, 0, 1])
        };
        let mut b = etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(sa, da, 64)
            .tcp(sp, dp, *seq, 1000);
        if flags.contains('S') {
            b = b.syn();
        }
        if flags.contains('A') {
            b = b.ack(1);
        }
        if flags.contains('F') {
            b = b.fin();
        }
        if flags.contains('R') {
            b = b.rst();
        }
        let mut frame = Vec::new();
        b.write(&mut frame, payload).unwrap();
        for v in [
            (i as u32 + 1_700_000_000).to_le_bytes(),
            0u32.to_le_bytes(),
            (frame.len() as u32).to_le_bytes(),
            (frame.len() as u32).to_le_bytes(),
        ] {
            out.extend(v);
        }
        out.extend(frame);
    }
    out
}

/// The same packets as a pcapng file (section, interface, enhanced
/// packet blocks).
fn pcapng(packets: &[(bool, u32, &str, &[u8])]) -> Vec<u8> {
    let legacy = pcap(packets);
    let mut out = Vec::new();
    let block = |out: &mut Vec<u8>, kind: u32, body: &[u8]| {
        let len = (12 + body.len().next_multiple_of(4)) as u32;
        out.extend(kind.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend(body);
        out.extend(std::iter::repeat_n(
            0u8,
            body.len().next_multiple_of(4) - body.len(),
        ));
        out.extend(len.to_le_bytes());
    };
    let mut shb = 0x1A2B3C4Du32.to_le_bytes().to_vec();
    shb.extend([1, 0, 0, 0]);
    shb.extend((-1i64).to_le_bytes());
    block(&mut out, 0x0A0D0D0A, &shb);
    let mut idb = vec![1, 0, 0, 0];
    idb.extend(65535u32.to_le_bytes());
    block(&mut out, 1, &idb);
    let mut rest = &legacy[24..];
    while rest.len() >= 16 {
        let len = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
        let secs = u64::from(u32::from_le_bytes(rest[0..4].try_into().unwrap()));
        let ts = secs * 1_000_000;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend(((ts >> 32) as u32).to_le_bytes());
        epb.extend((ts as u32).to_le_bytes());
        epb.extend((len as u32).to_le_bytes());
        epb.extend((len as u32).to_le_bytes());
        epb.extend(&rest[16..16 + len]);
        let pad = epb.len().next_multiple_of(4) - epb.len();
        epb.extend(std::iter::repeat_n(0u8, pad));
        block(&mut out, 6, &epb);
        rest = &rest[16 + len..];
    }
    out
}

#[test]
fn pcapng_reads_as_pcap() {
    let packets: [(bool, u32, &str, &[u8]); 3] = [
        (true, 100, "S", b""),
        (false, 500, "SA", b""),
        (true, 101, "A", b"GET / HTTP/1.1\r\n\r\n"),
    ];
    let a = read(pcap(&packets));
    let b = read(pcapng(&packets));
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(reason(&a[0]), reason(&b[0]));
    let (Ok(a), Ok(b)) = (&a[0], &b[0]) else {
        panic!()
    };
    assert_eq!(
        (a.client, a.server, a.packet),
        (b.client, b.server, b.packet)
    );
}

fn read(bytes: Vec<u8>) -> Vec<Result<Connection, String>> {
    Reader::new(std::io::Cursor::new(bytes), None)
        .unwrap()
        .collect()
}

fn reason(c: &Result<Connection, String>) -> String {
    match c {
        Ok(c) => c.session.as_ref().err().cloned().unwrap_or_default(),
        Err(e) => e.clone(),
    }
}

#[test]
fn connections_that_cannot_be_rebuilt_say_why() {
    // Not TLS.
    let r = read(pcap(&[
        (true, 100, "S", b""),
        (false, 500, "SA", b""),
        (true, 101, "A", b"GET / HTTP/1.1\r\n\r\n"),
    ]));
    assert_eq!(r.len(), 1);
    assert!(reason(&r[0]).contains("not TLS"), "{}", reason(&r[0]));
    // A ClientHello cut short, then the capture ends.
    let r = read(pcap(&[
        (true, 100, "S", b""),
        (true, 101, "A", &[22, 3, 1, 0, 200, 1, 0]),
    ]));
    assert!(
        reason(&r[0]).starts_with("the capture ends: no TLS handshake"),
        "{}",
        reason(&r[0])
    );
    // A missing segment.
    let r = read(pcap(&[
        (true, 100, "S", b""),
        (true, 150, "A", &[22, 3, 1, 0, 5]),
        (true, 150, "F", b""),
    ]));
    assert!(
        reason(&r[0]).contains("TCP segments are missing"),
        "{}",
        reason(&r[0])
    );
    // No SYN: the capture began later.
    let r = read(pcap(&[(true, 100, "A", b"xx"), (true, 102, "A", b"yy")]));
    assert_eq!(r.len(), 1);
    assert!(reason(&r[0]).contains("no SYN"), "{}", reason(&r[0]));
    // An alert from the server.
    let r = read(pcap(&[
        (true, 100, "S", b""),
        (false, 500, "SA", b""),
        (false, 501, "A", &[21, 3, 3, 0, 2, 2, 40]),
    ]));
    assert!(reason(&r[0]).contains("alert 40"), "{}", reason(&r[0]));
    // A damaged file after a good packet.
    let mut bytes = pcap(&[(true, 100, "S", b"")]);
    bytes.extend([0xff; 40]);
    let r = read(bytes);
    assert!(
        r.iter().any(|c| c.is_err() || !reason(c).is_empty()),
        "{r:?}"
    );
}

#[test]
fn a_flood_of_segments_is_bounded() {
    let mut packets: Vec<(bool, u32, &str, &[u8])> = vec![(true, 0, "S", b"")];
    let chunk = [7u8; 1400];
    // Out of order, never filling the first byte: all kept ahead.
    for i in 0..500u32 {
        packets.push((true, 2 + i * 1400, "A", &chunk));
    }
    let r = read(pcap(&packets));
    assert_eq!(r.len(), 1);
    assert!(
        reason(&r[0]).contains("KiB of handshake"),
        "{}",
        reason(&r[0])
    );
}

#[test]
fn garbage_never_panics() {
    // Pseudo-random payloads, sequence numbers and flags.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let payloads: Vec<Vec<u8>> = (0..300)
        .map(|_| {
            let n = (next() % 300) as usize;
            let mut p: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            if next() % 3 == 0 && p.len() > 5 {
                p[0] = 22;
                p[1] = 3;
                p[2] = 3;
            }
            p
        })
        .collect();
    let flags = ["S", "A", "SA", "F", "R", "A"];
    let packets: Vec<(bool, u32, &str, &[u8])> = payloads
        .iter()
        .map(|p| {
            (
                next() % 2 == 0,
                (next() % 4000) as u32,
                flags[(next() % 6) as usize],
                p.as_slice(),
            )
        })
        .collect();
    let _ = read(pcap(&packets));
}

#[test]
fn not_a_capture() {
    let e = Reader::new(
        std::io::Cursor::new(b"hello world, not pcap".to_vec()),
        None,
    )
    .unwrap_err();
    assert!(e.contains("not a pcap"), "{e}");
}
