//! Helpers shared by the tests that run the `echo` example.

use std::path::PathBuf;

/// The `echo` example binary. `cargo test` builds examples next to the test binaries
/// (`target/debug/examples/` beside `target/debug/deps/`), so it is found from our own path.
pub fn echo_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps");
    let echo = profile_dir
        .join("examples")
        .join(format!("echo{}", std::env::consts::EXE_SUFFIX));
    assert!(
        echo.exists(),
        "{} is missing; run the whole test suite (`cargo test -p local-runtime`), which builds \
         examples, or `cargo build -p local-runtime --example echo`",
        echo.display()
    );
    echo
}
