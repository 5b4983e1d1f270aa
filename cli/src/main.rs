//! `hedge`: space, health, copies, dumps and loads of LMDB environments.
//!
//! Every command takes ENV: the directory that holds `data.mdb`, or the data file itself.
//! Commands that make LMDB read the environment's trees first walk every page with hedge's
//! own defensive reader (`Env::check`), and refuse a damaged environment instead of letting
//! LMDB crash on it (`--no-verify` skips that on a file known to be sound).
//!
//! Exit status: 0 on success, 1 when the command failed or `check` found problems, 2 for a
//! command line that does not parse.

mod dump;
mod open;
mod ops;
mod process;
mod space;
mod stat;
mod textfmt;
mod wait;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use open::Failure;

#[derive(Parser)]
#[command(
    name = "hedge",
    version,
    about = "Space, health, copies, dumps and loads of LMDB environments",
    long_about = "Space, health, copies, dumps and loads of LMDB environments.\n\n\
                  ENV is the directory that holds data.mdb, or the data file itself. Dumps are in the text \
                  format of LMDB's mdb_dump and mdb_load, so either side reads the other's."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Why the file is this big: pages per database, free pages and the readers pinning them.
    Space {
        /// The environment: the directory that holds data.mdb, or the data file itself
        env: PathBuf,
        /// One JSON object, for scripts.
        #[arg(long)]
        json: bool,
        /// Skip the walk of every page that keeps LMDB from reading a damaged file (for a file
        /// known to be sound: faster)
        #[arg(long)]
        no_verify: bool,
    },
    /// What `mdb_stat -e -f -r -a` prints: environment, reader table, free list, databases.
    Stat {
        /// The environment: the directory that holds data.mdb, or the data file itself
        env: PathBuf,
        /// Only this named database.
        db: Option<String>,
        /// Skip the walk of every page that keeps LMDB from reading a damaged file (for a file
        /// known to be sound: faster)
        #[arg(long)]
        no_verify: bool,
    },
    /// Walks every page and reports inconsistencies; exit status 1 if there are any.
    Check {
        /// The environment: the directory that holds data.mdb, or the data file itself
        env: PathBuf,
        /// No progress bar (there is none when stderr is not a terminal).
        #[arg(long)]
        no_progress: bool,
    },
    /// The reader table: which processes hold which snapshots.
    Readers {
        /// The environment: the directory that holds data.mdb, or the data file itself
        env: PathBuf,
        /// Free the slots of processes that are gone first.
        #[arg(long)]
        clear_stale: bool,
    },
    /// A consistent copy into DEST (a new or empty directory).
    Copy {
        /// The environment: the directory that holds data.mdb, or the data file itself
        env: PathBuf,
        /// A new or empty directory
        dest: PathBuf,
        /// Leave free pages out and renumber: a smaller copy, slower to make.
        #[arg(long)]
        compact: bool,
        /// No progress bar (there is none when stderr is not a terminal)
        #[arg(long)]
        no_progress: bool,
        /// Skip the walk of every page that keeps LMDB from reading a damaged file (for a file
        /// known to be sound: faster)
        #[arg(long)]
        no_verify: bool,
    },
    /// Writes the unnamed database (or DB, or every named one) in mdb_dump's text format.
    Dump {
        /// The environment: the directory that holds data.mdb, or the data file itself
        env: PathBuf,
        /// A named database.
        #[arg(conflicts_with = "all")]
        db: Option<String>,
        /// Every named database, one section each (as mdb_dump -a).
        #[arg(short, long)]
        all: bool,
        /// Printable bytes as text (format=print), others as \xx.
        #[arg(short, long)]
        print: bool,
        /// Write to this file instead of standard output (refuses an existing file).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Skip the walk of every page that keeps LMDB from reading a damaged file (for a file
        /// known to be sound: faster)
        #[arg(long)]
        no_verify: bool,
    },
    /// Loads a dump (mdb_dump's or hedge's) from standard input into ENV, created if missing.
    Load {
        /// The environment: the directory that holds data.mdb, or the data file itself
        env: PathBuf,
        /// Load every section into this named database, whatever the dump names.
        db: Option<String>,
        /// Read the dump from this file instead of standard input.
        #[arg(short, long)]
        file: Option<PathBuf>,
        /// Keep the existing value of a key (or an existing duplicate) instead of overwriting.
        #[arg(short = 'N', long)]
        no_overwrite: bool,
        /// Map size in bytes (default: the dump's mapsize for a new environment; an existing one
        /// keeps its own unless the dump's is larger)
        #[arg(long)]
        map_size: Option<u64>,
        /// Skip the walk of every page that keeps LMDB from reading a damaged file (for a file
        /// known to be sound: faster)
        #[arg(long)]
        no_verify: bool,
    },
}

fn run(command: Command) -> Result<ExitCode, Failure> {
    let stdout = io::stdout();
    let print = |text: &str| -> Result<(), Failure> {
        let mut out = stdout.lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Failure::writing("the output", e))
    };
    match command {
        Command::Space { env, json, no_verify } => {
            let space = space::space(&env, no_verify)?;
            if json {
                print(&format!("{:#}\n", space.to_json()))?;
            } else {
                print(&space.to_text())?;
            }
        }
        Command::Stat { env, db, no_verify } => print(&stat::stat(&env, db.as_deref(), no_verify)?)?,
        Command::Check { env, no_progress } => {
            let (text, sound) = ops::check(&env, ops::progress_wanted(no_progress))?;
            print(&text)?;
            if !sound {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Readers { env, clear_stale } => print(&ops::readers(&env, clear_stale)?)?,
        Command::Copy { env, dest, compact, no_progress, no_verify } => {
            let size = ops::copy(&env, &dest, compact, no_verify, ops::progress_wanted(no_progress))?;
            eprintln!(
                "copied {} into {} ({})",
                env.display(),
                dest.join("data.mdb").display(),
                space::bytes(size)
            );
        }
        Command::Dump { env, db, all, print: printable, output, no_verify } => {
            let which = match (db, all) {
                (Some(db), _) => dump::Which::Named(db),
                (None, true) => dump::Which::All,
                (None, false) => dump::Which::Main,
            };
            match output {
                Some(path) => {
                    let file =
                        std::fs::File::options().write(true).create_new(true).open(&path).map_err(|e| {
                            Failure(format!(
                                "{}: {e} (hedge dump writes a new file; it never overwrites)",
                                path.display()
                            ))
                        })?;
                    let mut out = io::BufWriter::new(file);
                    let result = dump::dump(&env, which, printable, no_verify, &mut out);
                    if result.is_err() {
                        drop(out);
                        let _ = std::fs::remove_file(&path);
                    }
                    result?;
                }
                None => {
                    dump::dump(&env, which, printable, no_verify, &mut io::BufWriter::new(stdout.lock()))?
                }
            }
        }
        Command::Load { env, db, file, no_overwrite, map_size, no_verify } => {
            let options = dump::LoadOptions { database: db, no_overwrite, map_size, trust: no_verify };
            let loaded = match file {
                Some(path) => {
                    let input = std::fs::File::open(&path)
                        .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
                    dump::load(&env, &options, io::BufReader::new(input))?
                }
                None => dump::load(&env, &options, io::stdin().lock())?,
            };
            eprintln!(
                "loaded {} entr{} in {} section{} into {}{}",
                loaded.entries,
                if loaded.entries == 1 { "y" } else { "ies" },
                loaded.sections,
                if loaded.sections == 1 { "" } else { "s" },
                env.display(),
                if loaded.kept > 0 { format!(" ({} existing kept)", loaded.kept) } else { String::new() }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        // A reader that stopped reading (`hedge dump ENV | head`) is not an error.
        Err(Failure(message)) if message == Failure::OUTPUT_CLOSED => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("hedge: {failure}");
            ExitCode::FAILURE
        }
    }
}
