//! A minimal writer of MaxMind DB files (format 2.0, IPv4 trees, 24-bit records), to test GeoIP
//! lookups on small databases made here rather than downloaded ones.

use std::net::Ipv4Addr;

/// A DB-IP City Lite record (its flat layout): city, country code, region and coordinates.
pub fn dbip_place(
    city: &'static str,
    country_code: &'static str,
    region: &'static str,
    (latitude, longitude): (f32, f32),
) -> Value {
    Value::Map(vec![
        ("city", Value::Str(city)),
        ("country_code", Value::Str(country_code)),
        ("state1", Value::Str(region)),
        ("latitude", Value::F32(latitude)),
        ("longitude", Value::F32(longitude)),
    ])
}

/// A value in the MaxMind DB data format.
pub enum Value {
    Str(&'static str),
    U16(u16),
    U32(u32),
    U64(u64),
    F32(f32),
    Map(Vec<(&'static str, Value)>),
    Array(Vec<Value>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let size = u8::try_from(size).unwrap();
    assert!(size < 29, "sizes of 29 and more are not needed here");
    if kind <= 7 {
        out.push((kind << 5) | size);
    } else {
        // Extended types: type 0 in the control byte, then the type minus 7.
        out.push(size);
        out.push(kind - 7);
    }
}

impl Value {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Str(text) => {
                control(out, 2, text.len());
                out.extend_from_slice(text.as_bytes());
            }
            Self::U16(n) => {
                control(out, 5, 2);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Self::U32(n) => {
                control(out, 6, 4);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Self::U64(n) => {
                control(out, 9, 8);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Self::F32(x) => {
                control(out, 15, 4);
                out.extend_from_slice(&x.to_be_bytes());
            }
            Self::Map(entries) => {
                control(out, 7, entries.len());
                for (key, value) in entries {
                    Self::Str(key).encode(out);
                    value.encode(out);
                }
            }
            Self::Array(values) => {
                control(out, 11, values.len());
                for value in values {
                    value.encode(out);
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// An IPv4 database mapping each network (address, prefix length) to its record.
pub fn ipv4_database(database_type: &'static str, networks: &[(Ipv4Addr, u8, Value)]) -> Vec<u8> {
    let mut nodes = vec![[Record::Empty; 2]];
    for (index, (address, prefix, _)) in networks.iter().enumerate() {
        let bits = u32::from(*address);
        let mut node = 0;
        for depth in 0..*prefix {
            let side = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == *prefix {
                nodes[node][side] = Record::Data(index);
            } else {
                node = match nodes[node][side] {
                    Record::Node(next) => next,
                    _ => {
                        nodes.push([Record::Empty; 2]);
                        let next = nodes.len() - 1;
                        nodes[node][side] = Record::Node(next);
                        next
                    }
                };
            }
        }
    }
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (_, _, value) in networks {
        offsets.push(data.len());
        value.encode(&mut data);
    }
    let node_count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(next) => next,
                Record::Data(index) => node_count + 16 + offsets[index],
            };
            out.extend_from_slice(&u32::try_from(value).unwrap().to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    Value::Map(vec![
        ("binary_format_major_version", Value::U16(2)),
        ("binary_format_minor_version", Value::U16(0)),
        ("build_epoch", Value::U64(1_700_000_000)),
        ("database_type", Value::Str(database_type)),
        ("description", Value::Map(vec![("en", Value::Str("Twofold test database"))])),
        ("ip_version", Value::U16(4)),
        ("languages", Value::Array(vec![Value::Str("en")])),
        ("node_count", Value::U32(u32::try_from(node_count).unwrap())),
        ("record_size", Value::U16(24)),
    ])
    .encode(&mut out);
    out
}
