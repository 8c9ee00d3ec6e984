//! `zbor dev`'s own state between runs: the development data key.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Where `zbor dev` keeps what must outlive a run, relative to where it runs (`deploy/dev.sh`
/// runs it at the top of the checkout; `.gitignore` leaves the directory out).
pub const DEV_DIR: &str = ".zbor-dev";
/// The data key `zbor dev` seals with when ZBOR_DATA_KEY is not set.
pub const DATA_KEY_FILE: &str = ".zbor-dev/data-key";

/// The development data key: read from [`DATA_KEY_FILE`], or made and written there (mode
/// 0600) on the first run, so users, donors and beneficiaries sealed in one run open in the
/// next. True when it was made now.
pub fn data_key() -> anyhow::Result<(String, bool)> {
    let path = Path::new(DATA_KEY_FILE);
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = text.trim().to_owned();
            zbor_vault::DataKey::parse(&key)
                .with_context(|| format!("{DATA_KEY_FILE} is not a data key: delete it to make a new one"))?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = zbor_vault::DataKey::generate_hex();
            let mut directory = std::fs::DirBuilder::new();
            directory.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut directory, 0o700);
            directory.create(DEV_DIR).with_context(|| format!("creating {DEV_DIR}"))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).with_context(|| format!("creating {DATA_KEY_FILE}"))?;
            writeln!(file, "{key}").with_context(|| format!("writing {DATA_KEY_FILE}"))?;
            Ok((key, true))
        }
        Err(e) => Err(e).with_context(|| format!("reading {DATA_KEY_FILE}")),
    }
}
