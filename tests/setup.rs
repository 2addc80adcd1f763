//! The quick start's own checks: scripts/deps.sh finds the library bindgen really loads, and
//! takes nothing else for it.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Runs deps.sh's libclang check against a made-up filesystem under `root`.
fn libclang_found(root: &Path) -> Option<String> {
    let out = Command::new("bash")
        .arg("-c")
        .arg("source scripts/deps.sh && roomcast_libclang \"$1\"")
        .arg("check")
        .arg(root)
        .current_dir(repo())
        .env_remove("LIBCLANG_PATH")
        .output()
        .unwrap();
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn touch(root: &Path, path: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"").unwrap();
}

#[test]
fn the_libclang_check_wants_the_c_library_bindgen_loads_not_libclang_cpp() {
    let root = tempfile::tempdir().unwrap();
    // What a fresh Debian machine can have without libclang-dev or libclang1: the C++ library.
    touch(root.path(), "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
    touch(root.path(), "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    assert_eq!(libclang_found(root.path()), None, "libclang-cpp is not libclang");
    // Debian's libclang1-14 (what libclang-dev pulls in) gives a versioned libclang: that loads.
    touch(root.path(), "usr/lib/x86_64-linux-gnu/libclang-14.so.1");
    let found = libclang_found(root.path()).expect("found");
    assert!(found.ends_with("usr/lib/x86_64-linux-gnu/libclang-14.so.1"), "{found}");
}

#[test]
fn the_libclang_check_finds_this_machines_libclang() {
    // The check that scripts/test.sh just passed is a real file.
    let found = libclang_found(Path::new("")).expect("scripts/test.sh installs libclang-dev");
    assert!(Path::new(&found).exists(), "{found}");
}
