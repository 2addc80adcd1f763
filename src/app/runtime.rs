//! The event loop the live use cases run on, and how they learn to stop.

use anyhow::{Context, Result};
use tokio::sync::watch;

/// Two threads: the room source keeps draining its socket while the writer waits on the disk (a
/// thousand speakers joining means a thousand files created at once).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the event loop")
}

/// A watch channel that turns true on Ctrl-C or SIGTERM. Call inside the runtime.
pub fn stop_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let term = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(true);
    });
    rx
}

/// For blocking work that stops between steps (a worker between jobs): a flag that turns true on
/// the first Ctrl-C or SIGTERM (after `on_first` runs), and a second signal that ends the process
/// at once (exit status 130). The runtime must live as long as the work.
pub fn stop_flag_on_signals(
    rt: &tokio::runtime::Runtime,
    on_first: impl FnOnce() + Send + 'static,
) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    rt.spawn(async move {
        let _ = stop_on_signals().changed().await;
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        on_first();
        let _ = stop_on_signals().changed().await;
        std::process::exit(130);
    });
    stop
}

/// A track is an open file per speaker: large rooms need more than the usual 1024 descriptors.
#[cfg(unix)]
pub fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[cfg(not(unix))]
pub fn raise_open_file_limit() {}
