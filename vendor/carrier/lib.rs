// Empty: this package exists only to resolve the carrier (see Cargo.toml).
