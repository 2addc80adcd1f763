//! The `roomcast` command: wires the library's stages to the terminal.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
