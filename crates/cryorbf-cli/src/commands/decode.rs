//! `cryorbf decode`: the structures of a heterogeneous run at given latents, as one multi-model
//! PDB and mmCIF file, and optionally the volume of each as MRC.
use std::path::{Path, PathBuf};

use anyhow::Context;
use rbf_train::analysis::VaeRun;
use rbf_train::npy::read_matrix;

use super::DeviceArg;

/// Arguments of `cryorbf decode`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Run folder of `cryorbf train-vae`.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Latents: a .npy file (one row per model), or comma-separated numbers taken `zdim` at a
    /// time (with zdim 1, `--z -1,0,1` gives three models).
    #[arg(long, value_name = "VALUES|FILE.npy", allow_hyphen_values = true)]
    pub z: String,
    /// Output structure; `.pdb` or `.cif` — both are written, with the same stem.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the volume of each model as `<stem>_<k>.mrc`.
    #[arg(long)]
    pub volumes: bool,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// The latents of `--z`, `[n][zdim]`.
fn parse_latents(text: &str, zdim: usize) -> anyhow::Result<Vec<Vec<f64>>> {
    let path = Path::new(text);
    if path.extension().is_some_and(|e| e == "npy") {
        let z = read_matrix(path)?;
        anyhow::ensure!(z.cols == zdim, "{}: {} values per row, the run's latent dimension is {zdim}", path.display(), z.cols);
        return Ok(z.to_rows());
    }
    let values = text
        .split(',')
        .map(|v| v.trim().parse::<f64>().with_context(|| format!("--z: {v:?} is not a number (nor is {text:?} a .npy file)")))
        .collect::<anyhow::Result<Vec<f64>>>()?;
    anyhow::ensure!(
        !values.is_empty() && values.len() % zdim == 0,
        "--z: {} values do not make whole latents of dimension {zdim}",
        values.len()
    );
    Ok(values.chunks(zdim).map(<[f64]>::to_vec).collect())
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let device = rbf_train::Backend::from(args.device).device(false)?;
    let run = VaeRun::open(&args.run, &device)?;
    let z = parse_latents(&args.z, run.latent_dim())?;
    for (i, d) in run.outside_training_range(&z) {
        let [lo, hi] = run.info.latent_range[d];
        eprintln!(
            "note: latent {} ({:?}) lies outside the range seen in training along dimension {} ({lo:.3} … {hi:.3}); the decoder extrapolates there",
            i + 1,
            z[i],
            d + 1
        );
    }
    let other = match args.out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("pdb") => args.out.with_extension("cif"),
        Some("cif") => args.out.with_extension("pdb"),
        _ => anyhow::bail!("--out {}: give a .pdb or .cif file name", args.out.display()),
    };
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut files = run.write_decoded(&z, &args.out, args.volumes)?;
    files.extend(run.write_decoded(&z, &other, false)?);
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    println!("{} models; wrote {}", z.len(), names.join(", "));
    Ok(())
}
