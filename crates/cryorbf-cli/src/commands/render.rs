//! `cryorbf render`: the RBF density of a structure → MRC volume.
use std::path::PathBuf;

use anyhow::Context;
use rbf_model::{ImageGrid, RbfDensityConfig};

use super::{DeviceArg, StructureArgs};

/// Arguments of `cryorbf render`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub structure: StructureArgs,
    /// Output MRC volume.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Box edge (voxels).
    #[arg(long = "box", default_value_t = 128, value_name = "D")]
    pub box_size: usize,
    /// Voxel size (Å/voxel).
    #[arg(long, default_value_t = 1.0, value_name = "Å", allow_negative_numbers = true)]
    pub pixel_size: f64,
    /// RBF width σ (Å).
    #[arg(long, default_value_t = 3.71, allow_negative_numbers = true)]
    pub sigma: f64,
    /// Amplitude scale a₀ (amplitude of each RBF is a₀ times its electrons).
    #[arg(long, default_value_t = 0.1)]
    pub amplitude_scale: f64,
    /// Keep the structure's own frame instead of moving its Cα centroid to the box center.
    #[arg(long)]
    pub no_center: bool,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.sigma > 0.0 && args.sigma.is_finite(), "--sigma must be a positive number of Å, got {}", args.sigma);
    let mut model = args.structure.coarse_model()?;
    let grid = ImageGrid::new(args.box_size, args.pixel_size).with_context(|| format!("--box {} --pixel-size {}", args.box_size, args.pixel_size))?;
    if !args.no_center {
        let c = model.ca_centroid();
        model.translate([-c[0], -c[1], -c[2]]);
    }
    grid.check_fits(&model.centers, 0.0).with_context(|| format!("{}", args.structure.structure.display()))?;
    let device = rbf_train::Backend::from(args.device).device(false)?;
    let density = RbfDensityConfig::new()
        .with_sigma(args.sigma)
        .with_amplitude_scale(args.amplitude_scale)
        .init(&model.centers, &model.electrons, &device);
    let volume: Vec<f32> = density.volume(&grid).into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    rbf_io::mrc::write_volume(&args.out, &volume, args.box_size, args.pixel_size)?;
    println!("wrote {} ({}³ voxels, {} Å/voxel, {} RBFs)", args.out.display(), args.box_size, args.pixel_size, model.n_rbf());
    Ok(())
}
