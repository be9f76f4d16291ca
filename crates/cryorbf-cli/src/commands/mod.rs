//! One module per subcommand, plus the arguments they share.
pub mod analyze;
pub mod bench;
pub mod coarse_grain;
pub mod decode;
pub mod downsample;
pub mod inputs;
pub mod interrupt;
pub mod placement;
pub mod preprocess;
pub mod progress;
pub mod render;
pub mod reproduce;
pub mod run_args;
pub mod simulate;
pub mod train;
pub mod train_vae;

use std::path::PathBuf;

use rbf_model::{ChainSelection, CoarseModel, Structure};

/// Which structure to read, and which of its chains.
#[derive(clap::Args, Debug)]
pub struct StructureArgs {
    /// Reference structure (PDB or mmCIF; model 1 is used).
    #[arg(long, value_name = "FILE")]
    pub structure: PathBuf,
    /// Chain(s) to use, comma-separated (default: all chains).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub chain: Vec<String>,
}

impl StructureArgs {
    /// Read the structure and build its coarse-grained model.
    pub fn coarse_model(&self) -> anyhow::Result<CoarseModel> {
        let selection = if self.chain.is_empty() { ChainSelection::All } else { ChainSelection::Chains(self.chain.clone()) };
        let structure = Structure::read(&self.structure, &selection)?;
        Ok(CoarseModel::from_structure(&structure)?)
    }
}

/// The compute backend, `cpu` or `wgpu`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceArg {
    /// The CPU (Burn's flex backend).
    #[default]
    Cpu,
    /// A GPU through wgpu (Vulkan, Metal or DX12).
    Wgpu,
}

impl From<DeviceArg> for rbf_train::Backend {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Cpu => rbf_train::Backend::Cpu,
            DeviceArg::Wgpu => rbf_train::Backend::Wgpu,
        }
    }
}
