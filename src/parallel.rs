//! A small worker pool: each item on the first free core, results in input order, and no new item
//! started once one has failed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub fn map<T: Send, U: Send, E: Send>(items: Vec<T>, f: impl Fn(T) -> Result<U, E> + Sync) -> Result<Vec<U>, E> {
    map_with(cores(), items, f)
}

/// The machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// `map` with at most `workers` items at a time (work that is itself multi-threaded).
pub fn map_with<T: Send, U: Send, E: Send>(
    workers: usize,
    items: Vec<T>,
    f: impl Fn(T) -> Result<U, E> + Sync,
) -> Result<Vec<U>, E> {
    map_with_state(workers, items, || Ok(()), |_, item| f(item))
}

/// `map_with`, each worker keeping a state of its own from `init` for all the items it takes
/// (a whisper state: its buffers are allocated once per worker, not once per item).
pub fn map_with_state<T: Send, U: Send, E: Send, S>(
    workers: usize,
    items: Vec<T>,
    init: impl Fn() -> Result<S, E> + Sync,
    f: impl Fn(&mut S, T) -> Result<U, E> + Sync,
) -> Result<Vec<U>, E> {
    let workers = workers.min(items.len()).max(1);
    let count = items.len();
    let queue: Vec<Mutex<Option<T>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let results: Vec<Mutex<Option<Result<U, E>>>> = (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut state = None;
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = queue.get(i) else { return };
                    let Some(item) = slot.lock().ok().and_then(|mut s| s.take()) else { return };
                    if state.is_none() {
                        match init() {
                            Ok(s) => state = Some(s),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                if let Ok(mut out) = results[i].lock() {
                                    *out = Some(Err(e));
                                }
                                return;
                            }
                        }
                    }
                    let Some(state) = state.as_mut() else { return };
                    let r = f(state, item);
                    failed.fetch_or(r.is_err(), Ordering::Relaxed);
                    if let Ok(mut out) = results[i].lock() {
                        *out = Some(r);
                    }
                }
            });
        }
    });
    let mut out = Vec::with_capacity(count);
    let mut first_error = None;
    for r in results {
        match r.into_inner().ok().flatten() {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_input_order_and_the_first_error_wins() {
        let squares = super::map((1..=20).collect(), |i: u64| Ok::<_, String>(i * i)).unwrap();
        assert_eq!(squares, (1..=20).map(|i| i * i).collect::<Vec<_>>());
        let err = super::map(vec![1, 2, 3], |i| if i == 2 { Err("two") } else { Ok(i) }).unwrap_err();
        assert_eq!(err, "two");
    }
}
