//! `hedge dump` and `hedge load`: `mdb_dump`'s and `mdb_load`'s text format.

use std::io::{self, BufRead, Write};
use std::path::Path;

use hedge::types::Bytes;
use hedge::{CommitOrAbort, DatabaseFlags, Env, EnvOpenOptions, MdbError, WithoutTls};

use crate::open::{self, Db, Failure, Located, Named, Opening, explain, fail};
use crate::textfmt::{self, DumpReader, Encoding, Header, Item, ReadError};

/// Which databases `dump` writes.
pub enum Which {
    /// The unnamed database (as `mdb_dump` without `-s`/`-a`: named databases' records
    /// included).
    Main,
    /// One named database.
    Named(String),
    /// Every named database (`mdb_dump -a`).
    All,
}

pub fn dump(
    path: &Path,
    which: Which,
    print: bool,
    trust: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let at = open::locate(path)?;
    let (env, names) = open::open_for_reading(&at, trust)?;
    let encoding = if print { Encoding::Print } else { Encoding::Hex };
    let write_err = |e: io::Error| Failure::writing("the dump", e);
    match which {
        Which::Main => {
            let main = open::open_main(&env, &at)?;
            dump_one(&env, &at, main, None, encoding, out)?;
        }
        Which::Named(name) => {
            let opened = open::open_named(&env, &at, &[name.clone().into_bytes()])?;
            match opened.into_iter().next().map(|(_, n)| n) {
                Some(Named::Open(db)) => dump_one(&env, &at, db, Some(name.as_bytes()), encoding, out)?,
                Some(Named::NotADatabase) => {
                    return fail(format!(
                        "{}: {name:?} is a key of the unnamed database, not a named database (`hedge stat {}` \
                         lists the named databases)",
                        at.shown(),
                        at.shown()
                    ));
                }
                _ => {
                    return fail(format!(
                        "{}: no database named {name:?} (`hedge stat {}` lists the named databases)",
                        at.shown(),
                        at.shown()
                    ));
                }
            }
        }
        Which::All => {
            if names.is_empty() {
                return fail(format!(
                    "{}: the environment has no named databases: `hedge dump {}` (without --all) dumps its \
                     unnamed database",
                    at.shown(),
                    at.shown()
                ));
            }
            for (name, named) in open::open_named(&env, &at, &names)? {
                match named {
                    Named::Open(db) => dump_one(&env, &at, db, Some(&name), encoding, out)?,
                    Named::NotUtf8 => eprintln!(
                        "hedge: skipped the database named {:?}: its name is not UTF-8, which hedge cannot \
                         open (dump it with mdb_dump -s)",
                        open::name_text(&name)
                    ),
                    Named::Missing | Named::NotADatabase => {}
                }
            }
        }
    }
    out.flush().map_err(write_err)
}

fn dump_one(
    env: &Env<WithoutTls>,
    at: &Located,
    db: Db,
    name: Option<&[u8]>,
    encoding: Encoding,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let write_err = |e: io::Error| Failure::writing("the dump", e);
    let rtxn = env.read_txn().map_err(|e| explain(at, e))?;
    let info = env.info();
    let header = Header {
        print: encoding == Encoding::Print,
        database: name.map(<[u8]>::to_vec),
        map_size: Some(info.map_size as u64),
        max_readers: Some(info.maximum_number_of_readers),
        map_addr: (!info.map_addr.is_null()).then(|| format!("{:p}", info.map_addr)),
        flags: db.flags(&rtxn).map_err(|e| explain(at, e))?,
        page_size: Some(db.stat(&rtxn).map_err(|e| explain(at, e))?.page_size),
    };
    textfmt::write_header(out, &header).map_err(write_err)?;
    let mut buf = Vec::new();
    for entry in db.iter(&rtxn).map_err(|e| explain(at, e))? {
        let (key, value) = entry.map_err(|e| explain(at, e))?;
        textfmt::write_value(out, key, encoding, &mut buf).map_err(write_err)?;
        textfmt::write_value(out, value, encoding, &mut buf).map_err(write_err)?;
    }
    textfmt::write_end(out).map_err(write_err)
}

/// Options of `hedge load`.
pub struct LoadOptions {
    /// Load every section into this database, whatever the dump names.
    pub database: Option<String>,
    /// Keep existing keys (and duplicates) instead of overwriting them.
    pub no_overwrite: bool,
    /// The map size, instead of the dump's `mapsize=`.
    pub map_size: Option<u64>,
    pub trust: bool,
}

/// What a load did.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sections: usize,
    pub entries: u64,
    pub kept: u64,
}

/// The environment `load` writes into, reopened with more database slots when a dump names
/// more databases than it has.
struct Target {
    at: Located,
    how: Opening,
    env: Option<Env<WithoutTls>>,
    named_opened: u32,
}

impl Target {
    /// The open environment (a handle: drop it before `room_for_a_named_database`).
    fn env(&mut self) -> Result<Env<WithoutTls>, Failure> {
        if self.env.is_none() {
            self.env = Some(open::open(&self.at, self.how)?);
            self.named_opened = 0;
        }
        Ok(self.env.clone().expect("opened above"))
    }

    /// Closes the environment (reopened by the next `env`).
    fn close(&mut self) {
        if let Some(env) = self.env.take() {
            open::close(env);
        }
    }

    /// Makes room for one more named database handle.
    fn room_for_a_named_database(&mut self) {
        if self.named_opened < self.how.max_dbs {
            return;
        }
        self.close();
        self.how.max_dbs = (self.how.max_dbs * 2).clamp(8, EnvOpenOptions::MAX_DBS);
    }
}

pub fn load(path: &Path, options: &LoadOptions, input: impl BufRead) -> Result<Loaded, Failure> {
    let existed = path.exists();
    let result = load_into(path, options, input);
    match result {
        Err(Failure(message)) if !existed && path.is_dir() => {
            // Leave no half-made environment where there was none.
            let _ = std::fs::remove_dir_all(path);
            Err(Failure(format!(
                "{message} (the new environment {shown} was removed)",
                shown = path.display()
            )))
        }
        result => result,
    }
}

fn load_into(path: &Path, options: &LoadOptions, input: impl BufRead) -> Result<Loaded, Failure> {
    let shown = path.display();
    let mut reader = DumpReader::new(input);
    let format_err = |e: ReadError| match e {
        ReadError::Io(e) => Failure(format!("reading the dump: {e}")),
        ReadError::Format { line, what } => {
            Failure(format!("input line {line}: {what}. hedge load reads what mdb_dump and hedge dump write"))
        }
    };
    let mut warn = |line: u64, what: &str| eprintln!("hedge: input line {line}: {what}");
    let Some(first) = reader.next_item(&mut warn).map_err(format_err)? else {
        return fail("the input is empty: give a dump on standard input (hedge load ENV < dump.txt)");
    };
    let Item::Section(first) = first else { unreachable!("a dump starts with a header") };

    // The environment: the directory is created if missing (its parent must exist).
    if !path.exists() {
        std::fs::create_dir(path).map_err(|e| {
            Failure(format!(
                "{shown}: cannot create the environment's directory: {e} (does its parent exist?)"
            ))
        })?;
    }
    let file = !path.is_dir();
    let data = if file { path.to_path_buf() } else { path.join("data.mdb") };
    let at = Located { path: path.to_path_buf(), data, file };
    let rounded = |size: u64| {
        let page = 64 * 1024; // a multiple of every OS page size LMDB runs with
        usize::try_from(size.div_ceil(page) * page).unwrap_or(usize::MAX)
    };
    let existing = at.data.metadata().is_ok_and(|m| m.len() > 0);
    // A new environment takes the dump's map size and reader table; an existing one keeps
    // its own map unless the dump's is larger or --map-size says otherwise (with a smaller
    // map, LMDB would map only what the file holds, and the load could run out of room).
    let how = Opening {
        write: true,
        max_dbs: 8,
        map_size: options.map_size.or(if existing { None } else { first.map_size }).map(rounded),
        max_readers: if existing { None } else { first.max_readers },
    };
    let mut target = Target { at: at.clone(), how, env: None, named_opened: 0 };
    if existing {
        let env = target.env()?;
        if !options.trust {
            open::verify(&env, &at)?;
        }
        let larger = first.map_size.map(rounded).filter(|&size| size > env.info().map_size);
        if let (None, Some(size)) = (options.map_size, larger) {
            drop(env);
            target.close();
            target.how.map_size = Some(size);
        }
    }

    let mut loaded = Loaded::default();
    let mut header = first;
    loop {
        let name = match &options.database {
            Some(name) => Some(name.clone()),
            None => match &header.database {
                Some(name) => Some(String::from_utf8(name.clone()).map_err(|_| {
                    Failure(format!(
                        "input line {}: the database name {:?} is not UTF-8, which hedge cannot open: load it \
                         with mdb_load, or into a database named on the command line (hedge load ENV NAME)",
                        reader.line(),
                        String::from_utf8_lossy(name)
                    ))
                })?),
                None => None,
            },
        };
        if name.is_some() {
            target.room_for_a_named_database();
        }
        let env = target.env()?;
        let db = create(&env, &at, name.as_deref(), header.flags)?;
        if name.is_some() {
            target.named_opened += 1;
        }
        let mut wtxn = crate::wait::write_txn(&env, &at)?;
        let flags = if options.no_overwrite {
            hedge::PutFlags::NO_OVERWRITE
                | if header.flags.contains(DatabaseFlags::DUP_SORT) {
                    hedge::PutFlags::NO_DUP_DATA
                } else {
                    hedge::PutFlags::empty()
                }
        } else {
            hedge::PutFlags::empty()
        };
        loop {
            match reader.next_item(&mut warn).map_err(format_err)? {
                Some(Item::Entry(key, value)) => match db.put_with_flags(&mut wtxn, flags, &key, &value) {
                    Ok(()) => loaded.entries += 1,
                    Err(hedge::Error::Mdb(MdbError::KeyExist)) if options.no_overwrite => loaded.kept += 1,
                    Err(e) => {
                        return fail(format!(
                            "input line {}: {}; nothing of this database's section was loaded",
                            reader.line(),
                            explain(&at, e)
                        ));
                    }
                },
                Some(Item::End) => break,
                Some(Item::Section(_)) | None => unreachable!("the reader ends a section's data with End"),
            }
        }
        wtxn.commit().map_err(|e| explain(&at, e))?;
        loaded.sections += 1;
        match reader.next_item(&mut warn).map_err(format_err)? {
            None => break,
            Some(Item::Section(next)) => header = next,
            Some(_) => unreachable!("after End comes a header or the end"),
        }
    }
    if let Some(env) = target.env.take() {
        env.force_sync().map_err(|e| explain(&at, e))?;
    }
    Ok(loaded)
}

/// Creates (or opens) the database a section loads into, with the dump's flags.
fn create(
    env: &Env<WithoutTls>,
    at: &Located,
    name: Option<&str>,
    flags: DatabaseFlags,
) -> Result<Db, Failure> {
    let wtxn = crate::wait::write_txn(env, at)?;
    env.create_databases_and_commit(wtxn, |o, w| {
        let mut options = o.database_options().types::<Bytes, Bytes>();
        if let Some(name) = name {
            options.name(name);
        }
        options.flags(flags);
        options.create(w).map(CommitOrAbort::<_, ()>::Commit)
    })
    .map(CommitOrAbort::unwrap_commit)
    .map_err(|e| match e {
        hedge::Error::Mdb(MdbError::Incompatible) => Failure(format!(
            "{}: {} exists with other flags than the dump's, or is a plain key of the unnamed database: \
             load into another database (hedge load ENV NAME) or a new environment",
            at.shown(),
            name.map_or("the unnamed database".to_string(), |n| format!("database {n:?}"))
        )),
        e => explain(at, e),
    })
}
