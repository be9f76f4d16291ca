//! `cryorbf`: coarse-grained atomic models of proteins, and distributions of them, from cryo-EM
//! particle images. One file per subcommand in `commands/`; each parses its arguments and calls
//! the library crates.
mod commands;

/// Training allocates and frees tensors of megabytes every step; glibc's malloc hands each one
/// back to the kernel and page-faults it in again, mimalloc keeps them (`cryorbf bench` measures it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Simulate particle images of a structure (RELION STAR + MRC stack), with optional CTF, noise and motion.
    Simulate(commands::simulate::Args),
    /// Downsample particle images by Fourier cropping into a new stack and RELION 3.1 STAR file.
    Downsample(commands::downsample::Args),
    /// Homogeneous reconstruction: refine the atoms of a reference against particles with known poses.
    Train(commands::train::Args),
    /// Time full training steps (forward, backward, Adam) and report images per second.
    Bench(commands::bench::Args),
    /// Heterogeneous reconstruction: a VAE that moves the atoms of a reference with a per-image latent.
    TrainVae(commands::train_vae::Args),
    /// Write the structures (and volumes) of a heterogeneous run at given latents.
    Decode(commands::decode::Args),
    /// Plots, a latent trajectory and accuracy tables of a heterogeneous run.
    Analyze(commands::analyze::Args),
    /// Reproduce the paper's Table 1 (initializations), Table 2 (ablations) or Fig. 3/4 (heterogeneity) on simulated data.
    Reproduce(commands::reproduce::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CoarseGrain(args) => commands::coarse_grain::run(&args),
        Command::Render(args) => commands::render::run(&args),
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Downsample(args) => commands::downsample::run(&args),
        Command::Train(args) => commands::train::run(&args).map(|_| ()),
        Command::Bench(args) => commands::bench::run(&args).map(|_| ()),
        Command::TrainVae(args) => commands::train_vae::run(&args).map(|_| ()),
        Command::Decode(args) => commands::decode::run(&args),
        Command::Analyze(args) => commands::analyze::run(&args),
        Command::Reproduce(args) => commands::reproduce::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<commands::interrupt::Interrupted>().is_some() => {
            eprintln!("{e:#}");
            std::process::ExitCode::from(commands::interrupt::EXIT_CODE)
        }
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, leaving out a cause whose text the message before
/// already holds (library errors print their source).
fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
