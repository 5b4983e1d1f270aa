//! The text format of LMDB's `mdb_dump` and `mdb_load` (itself Berkeley DB's `db_dump`
//! format, version 3): a header of `name=value` lines ending with `HEADER=END`, then one line
//! per key and one per value, each starting with a space, then `DATA=END`. A dump of several
//! databases is several such sections, one after the other.
//!
//! Values are written as hex (`format=bytevalue`) or, with `-p`, as printable text
//! (`format=print`): bytes from space to `~` as themselves, a backslash doubled, any other
//! byte as a backslash and two hex digits.

use std::io::{self, BufRead, Write};

use hedge::DatabaseFlags;

/// The database flags the header names, in the order the dump writes them.
const FLAG_NAMES: [(DatabaseFlags, &str); 6] = [
    (DatabaseFlags::REVERSE_KEY, "reversekey"),
    (DatabaseFlags::DUP_SORT, "dupsort"),
    (DatabaseFlags::INTEGER_KEY, "integerkey"),
    (DatabaseFlags::DUP_FIXED, "dupfixed"),
    (DatabaseFlags::INTEGER_DUP, "integerdup"),
    (DatabaseFlags::REVERSE_DUP, "reversedup"),
];

/// How keys and values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Two lowercase hex digits a byte.
    Hex,
    /// Printable bytes as they are (`format=print`).
    Print,
}

/// What a section's header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `format=print` rather than `bytevalue`.
    pub print: bool,
    /// `database=`: the named database (`None`: the unnamed one).
    pub database: Option<Vec<u8>>,
    /// `mapsize=`.
    pub map_size: Option<u64>,
    /// `maxreaders=`.
    pub max_readers: Option<u32>,
    /// `mapaddr=` was present (a `FIXED_MAP` environment).
    pub map_addr: Option<String>,
    /// The database flags (`dupsort=1`, ...; `duplicates=1` means `DUP_SORT` too).
    pub flags: DatabaseFlags,
    /// `db_pagesize=`.
    pub page_size: Option<u32>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            print: false,
            database: None,
            map_size: None,
            max_readers: None,
            map_addr: None,
            flags: DatabaseFlags::empty(),
            page_size: None,
        }
    }
}

/// Writes a section's header, exactly as `mdb_dump` does.
pub fn write_header(out: &mut impl Write, header: &Header) -> io::Result<()> {
    writeln!(out, "VERSION=3")?;
    writeln!(out, "format={}", if header.print { "print" } else { "bytevalue" })?;
    if let Some(name) = &header.database {
        out.write_all(b"database=")?;
        out.write_all(name)?;
        out.write_all(b"\n")?;
    }
    writeln!(out, "type=btree")?;
    writeln!(out, "mapsize={}", header.map_size.unwrap_or(0))?;
    if let Some(addr) = &header.map_addr {
        writeln!(out, "mapaddr={addr}")?;
    }
    writeln!(out, "maxreaders={}", header.max_readers.unwrap_or(0))?;
    if header.flags.contains(DatabaseFlags::DUP_SORT) {
        writeln!(out, "duplicates=1")?;
    }
    for (flag, name) in FLAG_NAMES {
        if header.flags.contains(flag) {
            writeln!(out, "{name}=1")?;
        }
    }
    writeln!(out, "db_pagesize={}", header.page_size.unwrap_or(0))?;
    writeln!(out, "HEADER=END")
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes one key or value line: a space, the encoded bytes, a newline.
pub fn write_value(
    out: &mut impl Write,
    bytes: &[u8],
    encoding: Encoding,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    buf.clear();
    buf.push(b' ');
    for &b in bytes {
        match encoding {
            Encoding::Print if b == b'\\' => buf.extend_from_slice(b"\\\\"),
            Encoding::Print if (0x20..0x7f).contains(&b) => buf.push(b),
            Encoding::Print => {
                buf.extend_from_slice(&[b'\\', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]])
            }
            Encoding::Hex => buf.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]),
        }
    }
    buf.push(b'\n');
    out.write_all(buf)
}

/// The end of a section's data.
pub fn write_end(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "DATA=END")
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes the text of a key or value line (without its leading space and newline).
pub fn decode(text: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 2);
    match encoding {
        Encoding::Hex => {
            if !text.len().is_multiple_of(2) {
                return Err("an odd number of hex digits".into());
            }
            for pair in text.chunks(2) {
                match (hex_digit(pair[0]), hex_digit(pair[1])) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(format!("{:?} is not a hex byte", String::from_utf8_lossy(pair))),
                }
            }
        }
        Encoding::Print => {
            let mut i = 0;
            while i < text.len() {
                if text[i] != b'\\' {
                    out.push(text[i]);
                    i += 1;
                } else if text.get(i + 1) == Some(&b'\\') {
                    out.push(b'\\');
                    i += 2;
                } else {
                    match (
                        text.get(i + 1).and_then(|&c| hex_digit(c)),
                        text.get(i + 2).and_then(|&c| hex_digit(c)),
                    ) {
                        (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                        _ => return Err("a backslash not followed by two hex digits or a backslash".into()),
                    }
                    i += 3;
                }
            }
        }
    }
    Ok(out)
}

/// What went wrong reading a dump: the line and what to do.
#[derive(Debug)]
pub enum ReadError {
    /// Reading the input failed.
    Io(io::Error),
    /// The input is not in the dump format.
    Format { line: u64, what: String },
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// One item of a dump, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    /// A section begins (its header was read).
    Section(Header),
    /// A key and its value.
    Entry(Vec<u8>, Vec<u8>),
    /// The section's `DATA=END`.
    End,
}

/// Reads a dump item by item; unknown header keywords go to `warn`.
pub struct DumpReader<R> {
    input: R,
    line: Vec<u8>,
    lineno: u64,
    in_data: Option<Encoding>,
}

impl<R: BufRead> DumpReader<R> {
    pub fn new(input: R) -> Self {
        DumpReader { input, line: Vec::new(), lineno: 0, in_data: None }
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.lineno
    }

    fn format(&self, what: impl Into<String>) -> ReadError {
        ReadError::Format { line: self.lineno, what: what.into() }
    }

    /// Reads the next line into `self.line` without its newline; `false` at the end.
    fn next_line(&mut self) -> Result<bool, ReadError> {
        self.line.clear();
        if self.input.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(false);
        }
        self.lineno += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        Ok(true)
    }

    /// The next item; `None` at the end of the input between sections.
    pub fn next_item(&mut self, warn: &mut dyn FnMut(u64, &str)) -> Result<Option<Item>, ReadError> {
        match self.in_data {
            None => self.header(warn),
            Some(encoding) => self.entry(encoding),
        }
    }

    fn header(&mut self, warn: &mut dyn FnMut(u64, &str)) -> Result<Option<Item>, ReadError> {
        let mut header = Header::default();
        let mut seen = false;
        loop {
            if !self.next_line()? {
                if seen {
                    return Err(
                        self.format("the input ends inside a header (no HEADER=END): the dump is incomplete")
                    );
                }
                return Ok(None);
            }
            if self.line.is_empty() && !seen {
                continue;
            }
            seen = true;
            let line = self.line.clone();
            if line == b"HEADER=END" {
                break;
            }
            let Some(eq) = line.iter().position(|&b| b == b'=') else {
                return Err(self.format(format!(
                    "expected a header line (name=value) or HEADER=END, found {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(60)])
                )));
            };
            let (name, value) = (&line[..eq], &line[eq + 1..]);
            let text = String::from_utf8_lossy(value).into_owned();
            let number = |what: &str| -> Result<u64, ReadError> {
                text.trim().parse::<u64>().map_err(|_| self.format(format!("{what}={text}: not a number")))
            };
            match name {
                b"VERSION" => {
                    if number("VERSION")? > 3 {
                        return Err(self.format(format!(
                            "VERSION={text}: this dump format is newer than the one hedge reads (3)"
                        )));
                    }
                }
                b"format" => match value {
                    b"print" => header.print = true,
                    b"bytevalue" => header.print = false,
                    _ => {
                        return Err(self.format(format!(
                            "format={text}: hedge reads format=bytevalue and format=print"
                        )));
                    }
                },
                b"type" if value == b"btree" => {}
                b"type" => {
                    return Err(
                        self.format(format!("type={text}: only btree databases can be loaded into LMDB"))
                    );
                }
                b"database" => header.database = Some(value.to_vec()),
                b"mapsize" => header.map_size = Some(number("mapsize")?),
                b"maxreaders" => {
                    header.max_readers = Some(
                        u32::try_from(number("maxreaders")?)
                            .map_err(|_| self.format(format!("maxreaders={text}: too large")))?,
                    )
                }
                b"mapaddr" => header.map_addr = Some(text),
                b"db_pagesize" => {
                    header.page_size = Some(
                        u32::try_from(number("db_pagesize")?)
                            .map_err(|_| self.format(format!("db_pagesize={text}: too large")))?,
                    )
                }
                b"duplicates" => header.flags |= DatabaseFlags::DUP_SORT,
                _ => match FLAG_NAMES.iter().find(|(_, n)| n.as_bytes() == name) {
                    Some((flag, _)) => header.flags |= *flag,
                    None => warn(
                        self.lineno,
                        &format!("unknown header keyword {:?} ignored", String::from_utf8_lossy(name)),
                    ),
                },
            }
        }
        self.in_data = Some(if header.print { Encoding::Print } else { Encoding::Hex });
        Ok(Some(Item::Section(header)))
    }

    fn entry(&mut self, encoding: Encoding) -> Result<Option<Item>, ReadError> {
        let incomplete = "the input ends inside a section's data (no DATA=END): the dump is incomplete";
        if !self.next_line()? {
            return Err(self.format(incomplete));
        }
        if self.line == b"DATA=END" {
            self.in_data = None;
            return Ok(Some(Item::End));
        }
        let key = self.data_line(encoding, "key")?;
        if !self.next_line()? {
            return Err(self.format(format!("{incomplete} (a key without its value)")));
        }
        let value = self.data_line(encoding, "value")?;
        Ok(Some(Item::Entry(key, value)))
    }

    fn data_line(&self, encoding: Encoding, what: &str) -> Result<Vec<u8>, ReadError> {
        let Some(text) = self.line.strip_prefix(b" ") else {
            return Err(self.format(format!(
                "expected a {what} line (starting with a space) or DATA=END, found {:?}",
                String::from_utf8_lossy(&self.line[..self.line.len().min(60)])
            )));
        };
        decode(text, encoding).map_err(|e| self.format(format!("this {what} line is malformed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
        let mut out = Vec::new();
        write_value(&mut out, bytes, encoding, &mut Vec::new()).unwrap();
        out
    }

    #[test]
    fn print_escapes_backslashes_and_unprintable_bytes() {
        assert_eq!(encoded(b"a\\b\x00\x7f~ ", Encoding::Print), b" a\\\\b\\00\\7f~ \n");
        assert_eq!(encoded(b"\x01\xab", Encoding::Hex), b" 01ab\n");
    }

    #[test]
    fn every_byte_round_trips_in_both_encodings() {
        let all: Vec<u8> = (0..=255).collect();
        for encoding in [Encoding::Hex, Encoding::Print] {
            let line = encoded(&all, encoding);
            assert_eq!(decode(&line[1..line.len() - 1], encoding).unwrap(), all);
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        assert!(decode(b"abc", Encoding::Hex).is_err());
        assert!(decode(b"zz", Encoding::Hex).is_err());
        assert!(decode(b"a\\", Encoding::Print).is_err());
        assert!(decode(b"\\4", Encoding::Print).is_err());
        assert_eq!(decode(b"\\4A", Encoding::Print).unwrap(), b"J");
    }

    #[test]
    fn a_header_writes_and_reads_back() {
        let header = Header {
            print: true,
            database: Some(b"my db".to_vec()),
            map_size: Some(1 << 20),
            max_readers: Some(126),
            map_addr: None,
            flags: DatabaseFlags::DUP_SORT | DatabaseFlags::INTEGER_DUP,
            page_size: Some(4096),
        };
        let mut out = Vec::new();
        write_header(&mut out, &header).unwrap();
        write_value(&mut out, b"k", Encoding::Print, &mut Vec::new()).unwrap();
        write_value(&mut out, b"v", Encoding::Print, &mut Vec::new()).unwrap();
        write_end(&mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "VERSION=3\nformat=print\ndatabase=my db\ntype=btree\nmapsize=1048576\nmaxreaders=126\n\
             duplicates=1\ndupsort=1\nintegerdup=1\ndb_pagesize=4096\nHEADER=END\n k\n v\nDATA=END\n"
        );
        let mut reader = DumpReader::new(&out[..]);
        let mut warn = |_: u64, w: &str| panic!("warned: {w}");
        assert_eq!(reader.next_item(&mut warn).unwrap(), Some(Item::Section(header)));
        assert_eq!(reader.next_item(&mut warn).unwrap(), Some(Item::Entry(b"k".to_vec(), b"v".to_vec())));
        assert_eq!(reader.next_item(&mut warn).unwrap(), Some(Item::End));
        assert_eq!(reader.next_item(&mut warn).unwrap(), None);
    }

    #[test]
    fn incomplete_and_foreign_input_is_refused_with_its_line() {
        let cases: [(&[u8], u64); 5] = [
            (b"VERSION=3\nformat=bytevalue\n", 2),
            (b"VERSION=3\nHEADER=END\n 6b\n", 3),
            (b"VERSION=3\nHEADER=END\n 6b\nDATA=END\n", 4),
            (b"hello world\n", 1),
            (b"VERSION=3\nformat=bytevalue\nHEADER=END\nkey\n", 4),
        ];
        for (input, line) in cases {
            let mut reader = DumpReader::new(input);
            let result = (|| loop {
                if reader.next_item(&mut |_, _| {})?.is_none() {
                    return Ok(());
                }
            })();
            match result {
                Err(ReadError::Format { line: at, .. }) => {
                    assert_eq!(at, line, "{:?}", String::from_utf8_lossy(input))
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
            }
        }
    }
}
