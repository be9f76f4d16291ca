//! `cryorbf`: coarse-grained atomic models of proteins, and distributions of them, from cryo-EM
//! particle images. One file per subcommand in `commands/`; each parses its arguments and calls
//! the library crates.
mod commands;

use clap::{Parser, Subcommand};

/// Coarse-grained atomic models of proteins from cryo-EM particle images.
#[derive(Parser, Debug)]
#[command(name = "cryorbf", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the coarse-grained RBF model of a structure and write it as PDB or mmCIF.
    CoarseGrain(commands::coarse_grain::Args),
    /// Render the RBF density of a structure into an MRC volume.
    Render(commands::render::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CoarseGrain(args) => commands::coarse_grain::run(&args),
        Command::Render(args) => commands::render::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
