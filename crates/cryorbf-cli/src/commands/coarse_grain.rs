//! `cryorbf coarse-grain`: structure → coarse-grained model file.
use std::path::PathBuf;

use super::StructureArgs;

/// Arguments of `cryorbf coarse-grain`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub structure: StructureArgs,
    /// Output file: `.pdb`, or `.cif` for mmCIF. Backbone RBFs are written as CA atoms,
    /// side-chain RBFs as CEN pseudo-atoms.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let model = args.structure.coarse_model()?;
    model.write_models(&args.out, &[model.centers.clone()])?;
    let side_chains = model.n_rbf() - model.n_residues();
    println!(
        "{}: {} residues → {} RBFs ({} backbone, {} side chain), {} bonds; wrote {}",
        args.structure.structure.display(),
        model.n_residues(),
        model.n_rbf(),
        model.n_residues(),
        side_chains,
        model.bonds.len(),
        args.out.display()
    );
    Ok(())
}
