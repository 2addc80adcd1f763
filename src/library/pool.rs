//! A few open catalogs shared by the threads of a server: each request borrows one, so searches
//! run side by side (PostgreSQL connections; SQLite readers, which WAL lets run beside a writer)
//! instead of queueing behind a single connection. Catalogs are opened when first needed, up to
//! the pool's size; a borrower beyond that waits for one to come back.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use super::{Access, Catalog, Result};

pub struct CatalogPool {
    location: PathBuf,
    access: Access,
    size: usize,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Box<dyn Catalog>>,
    open: usize,
}

impl CatalogPool {
    /// Opens the first catalog at once, so a library that cannot be opened is said at start.
    pub fn open(location: &Path, access: Access, size: usize) -> Result<CatalogPool> {
        let first = super::open(location, access)?;
        Ok(CatalogPool {
            location: location.to_path_buf(),
            access,
            size: size.max(1),
            state: Mutex::new(State { idle: vec![first], open: 1 }),
            returned: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A borrower that panicked held no lock here: the state is whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A catalog for this thread, until the guard is dropped.
    pub fn get(&self) -> Result<Pooled<'_>> {
        let mut state = self.lock();
        loop {
            if let Some(catalog) = state.idle.pop() {
                return Ok(Pooled { pool: self, catalog: Some(catalog) });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match super::open(&self.location, self.access) {
                    Ok(catalog) => Ok(Pooled { pool: self, catalog: Some(catalog) }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// How many catalogs are open now.
    pub fn open_count(&self) -> usize {
        self.lock().open
    }
}

/// A borrowed catalog; dropping it gives it back.
pub struct Pooled<'a> {
    pool: &'a CatalogPool,
    catalog: Option<Box<dyn Catalog>>,
}

impl Deref for Pooled<'_> {
    type Target = dyn Catalog;
    fn deref(&self) -> &(dyn Catalog + 'static) {
        self.catalog.as_deref().expect("a pooled catalog is present until dropped")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut (dyn Catalog + 'static) {
        self.catalog.as_deref_mut().expect("a pooled catalog is present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(catalog) = self.catalog.take() {
            self.pool.lock().idle.push(catalog);
            self.pool.returned.notify_one();
        }
    }
}
