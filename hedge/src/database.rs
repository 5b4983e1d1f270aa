//! Databases of an environment (the typed handles come with the next part of the API).

/// Statistics of a database, from `mdb_stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseStat {
    /// Size of a page in bytes.
    pub page_size: u32,
    /// Depth of the B-tree.
    pub depth: u32,
    /// Internal (non-leaf) pages.
    pub branch_pages: usize,
    /// Leaf pages.
    pub leaf_pages: usize,
    /// Overflow pages (values larger than a node).
    pub overflow_pages: usize,
    /// Entries (key/value pairs).
    pub entries: usize,
}

impl From<crate::mdb::ffi::MDB_stat> for DatabaseStat {
    fn from(st: crate::mdb::ffi::MDB_stat) -> Self {
        DatabaseStat {
            page_size: st.ms_psize,
            depth: st.ms_depth,
            branch_pages: st.ms_branch_pages,
            leaf_pages: st.ms_leaf_pages,
            overflow_pages: st.ms_overflow_pages,
            entries: st.ms_entries,
        }
    }
}
