//! `cryorbf reproduce table1|table2`: simulate the paper's homogeneous dataset (App. A.1), train
//! every row of its Table 1 (initializations) or Table 2 (ablations), and write a markdown table
//! beside the paper's numbers.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rbf_sim::SimulationConfig;
use rbf_train::homogeneous::Summary;

use super::inputs::InputArgs;
use super::run_args::RunArgs;
use super::DeviceArg;

/// Which table of the paper.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Table 1: exact, approximate, noisy and random initializations.
    Table1,
    /// Table 2: ablations of side-chain RBFs, bonds and the image loss (approximate start).
    Table2,
}

/// Arguments of `cryorbf reproduce`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The table to reproduce.
    #[arg(value_enum)]
    pub table: Table,
    /// The paper's structure (5NI1).
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// Chain(s) to use (paper: A).
    #[arg(long, value_delimiter = ',', default_value = "A")]
    pub chain: Vec<String>,
    /// Output folder: the dataset in data/, one run folder per row, and tableN.md.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// A smaller run: 5,000 images (the full size is the paper's 50,000).
    #[arg(long)]
    pub quick: bool,
    /// Number of simulated images (overrides the default of the chosen size).
    #[arg(long)]
    pub images: Option<usize>,
    /// Epochs after the warm-up (paper: 10).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Adam learning rate (paper: 1e-4).
    #[arg(long, default_value_t = 1e-4)]
    pub lr: f64,
    /// Images per minibatch (paper: 8).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Seed of the dataset, the initializations and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Coarse-to-fine σ floor at the start (Å; 0: off, as in the paper).
    #[arg(long, default_value_t = 0.0)]
    pub coarse_sigma: f64,
    /// Annealing noise on the centers at the start (Å per step; 0: off, as in the paper).
    #[arg(long, default_value_t = 0.0)]
    pub anneal_noise: f64,
    /// Epochs over which the coarse σ and the annealing noise decay to 0.
    #[arg(long, default_value_t = 5.0)]
    pub schedule_epochs: f64,
    /// Suffix of the run folders and the table file (to keep variants side by side).
    #[arg(long, default_value = "")]
    pub tag: String,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// One row: a name, the paper's numbers, and how to train it.
struct Row {
    name: &'static str,
    /// Initial RMSE, Cα RMSE, % within 3 Å, volume NMSE (the paper's; `None` where it gives none).
    paper: [Option<f64>; 4],
    init: &'static str,
    no_side_chains: bool,
    bond_strength: f64,
    image_weight: f64,
}

fn rows(table: Table) -> Vec<Row> {
    let row = |name, paper, init| Row { name, paper, init, no_side_chains: false, bond_strength: 1.0, image_weight: 1.0 };
    match table {
        Table::Table1 => vec![
            row("Exact 5NI1", [Some(0.0), Some(0.843), Some(99.29), Some(0.28)], "exact"),
            row("Approximate 5NI1", [Some(5.15), Some(3.81), Some(77.30), Some(0.32)], "approx:5.15"),
            row("5NI1 + Uniform[6 Å]", [Some(6.50), Some(3.19), Some(53.19), Some(0.35)], "noise:6"),
            row("Random", [Some(34.87), Some(17.16), Some(2.12), Some(0.43)], "random:64"),
        ],
        Table::Table2 => vec![
            row("Full Model", [Some(5.15), Some(3.81), Some(77.30), Some(0.32)], "approx:5.15"),
            Row { no_side_chains: true, ..row("No Sidechain RBFs", [Some(5.15), Some(4.10), Some(70.21), Some(0.49)], "approx:5.15") },
            Row { bond_strength: 0.0, ..row("No Bonds", [Some(5.15), Some(10.42), Some(37.59), Some(0.36)], "approx:5.15") },
            Row { image_weight: 0.0, ..row("No Cryo-EM Loss", [Some(5.15), Some(5.15), Some(74.47), Some(1.82)], "approx:5.15") },
        ],
    }
}

/// Run the command.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let n_images = args.images.unwrap_or(if args.quick { 5_000 } else { 50_000 });
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let data = args.out.join("data");
    let plain = rbf_train::Backend::from(args.device).device(false)?;
    ensure_dataset(args, &data, n_images, &plain)?;

    let table = match args.table {
        Table::Table1 => "table1",
        Table::Table2 => "table2",
    };
    let mut results = Vec::new();
    for (i, row) in rows(args.table).iter().enumerate() {
        println!("\n== {table} row {}: {} (init {}) ==", i + 1, row.name, row.init);
        let out = args.out.join(format!("{table}{}_row{}", args.tag, i + 1));
        let train = super::train::Args {
            run: RunArgs {
                inputs: InputArgs {
                    particles: Some(data.clone()),
                    datadir: None,
                    reference: Some(args.reference.clone()),
                    chain: args.chain.clone(),
                    reference_shift: None,
                    truth: Some(data.clone()),
                    truth_resolution: None,
                },
                init: row.init.to_string(),
                epochs: Some(args.epochs),
                warmup_epochs: 1,
                batch: args.batch,
                lr: args.lr,
                seed: args.seed,
                bond_strength: row.bond_strength,
                side_chain_strength: 1.0,
                no_side_chains: row.no_side_chains,
                sigma: 3.71,
                a0: None,
                noise_variance: None,
                device: args.device,
                out: Some(out),
                force: true,
                resume: None,
                quiet: false,
            },
            image_weight: row.image_weight,
            coarse_sigma: args.coarse_sigma,
            anneal_noise: args.anneal_noise,
            schedule_epochs: args.schedule_epochs,
        };
        results.push(super::train::run(&train)?);
    }
    let markdown = table_markdown(args, n_images, &rows(args.table), &results);
    let path = args.out.join(format!("{table}{}.md", args.tag));
    rbf_io::atomic::write_atomically(&path, |w| std::io::Write::write_all(w, markdown.as_bytes()))?;
    println!("\n{markdown}\nwrote {}", path.display());
    Ok(())
}

/// Simulate the paper's dataset into `dir`, unless a simulation with the same settings is there.
fn ensure_dataset(args: &Args, dir: &Path, n_images: usize, device: &burn::prelude::Device) -> anyhow::Result<()> {
    let config = SimulationConfig {
        structure: args.reference.clone(),
        chains: args.chain.clone(),
        out_dir: dir.to_path_buf(),
        n_images,
        seed: args.seed,
        force: true,
        ..SimulationConfig::default()
    };
    let record = dir.join(rbf_sim::simulate::RECORD_FILE);
    if let Ok(text) = std::fs::read_to_string(&record) {
        let old: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut wanted = serde_json::to_value(&config)?;
        // The folder of an earlier run may have been given another way; compare the rest.
        for v in [&mut wanted] {
            v["out_dir"] = old["config"]["out_dir"].clone();
            v["force"] = old["config"]["force"].clone();
        }
        if old["config"] == wanted {
            println!("using the dataset in {} (same settings)", dir.display());
            return Ok(());
        }
    }
    println!("simulating {n_images} images of {} chain {} into {}", args.reference.display(), args.chain.join(","), dir.display());
    let bar = indicatif::ProgressBar::new(n_images as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("simulate [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    rbf_sim::simulate(&config, device, |done| bar.set_position(done as u64))?;
    bar.finish();
    Ok(())
}

fn table_markdown(args: &Args, n_images: usize, rows: &[Row], results: &[Summary]) -> String {
    let fmt = |v: Option<f64>, digits: usize| v.map_or("–".to_string(), |v| format!("{v:.digits$}"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} images (box 128, 1 Å/px, all atoms at 3 Å, SNR 0.1, shifts ±10 px), batch {}, lr {}, 1 warm-up + {} epochs, seed {}, \
         coarse σ {} Å, annealing noise {} Å (decaying over {} epochs).\n",
        n_images, args.batch, args.lr, args.epochs, args.seed, args.coarse_sigma, args.anneal_noise, args.schedule_epochs
    );
    let _ = writeln!(s, "| Row | Initial RMSE (Å) paper / ours | Cα RMSE (Å) paper / ours | % within 3 Å paper / ours | Volume NMSE paper / ours |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for (row, r) in rows.iter().zip(results) {
        let (i, f) = (r.initial, r.final_accuracy);
        let _ = writeln!(
            s,
            "| {} | {} / {} | {} / {} | {} / {} | {} / {} |",
            row.name,
            fmt(row.paper[0], 2),
            fmt(i.map(|a| a.ca_rmse), 2),
            fmt(row.paper[1], 2),
            fmt(f.map(|a| a.ca_rmse), 2),
            fmt(row.paper[2], 1),
            fmt(f.map(|a| a.percent_within_3a), 1),
            fmt(row.paper[3], 2),
            fmt(f.and_then(|a| a.volume_nmse), 2),
        );
    }
    s
}
