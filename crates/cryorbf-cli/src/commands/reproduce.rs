//! `cryorbf reproduce table1|table2|fig4`: simulate the paper's datasets, train every row and
//! write a markdown table beside the paper's numbers.
//!
//! - `table1`, `table2`: the homogeneous dataset (App. A.1); every initialization of Table 1, every
//!   ablation of Table 2.
//! - `fig4`: the heterogeneous datasets of §4.2 (5NI1 chain A, Cα atoms at 3 Å, a 0.25 rad ψ
//!   rotation over 50 states) for the four distributions of Fig. 4, a VAE trained on each from the
//!   state-0 structure, each analysed as `cryorbf analyze` does, and the per-coordinate Cα RMSE of
//!   all four in one table and one plot.
//!
//! Every row trains in its own folder; a row folder that already holds a checkpoint of the same
//! settings is resumed (a finished one just reports its result), so an interrupted `reproduce`
//! costs only what it had not finished.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rbf_sim::{AtomSelection, DihedralMotion, Distribution, Motion, SimulationConfig};
use rbf_train::analysis::{AnalysisSummary, StateTruth, VaeRun, analyze};
use rbf_train::heterogeneous::Summary as VaeSummary;
use rbf_train::homogeneous::Summary;

use super::inputs::InputArgs;
use super::run_args::{HasRunArgs, RunArgs, SideChainStart};
use super::train::{FrameFrom, LrUnits};
use super::train_vae::EncoderInputArg;
use super::DeviceArg;

/// Which result of the paper.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Table 1: exact, approximate, noisy and random initializations.
    Table1,
    /// Table 2: ablations of side-chain RBFs, bonds and the image loss (approximate start).
    Table2,
    /// Fig. 3 and 4: heterogeneous reconstruction of a dihedral motion, for four distributions
    /// of the particles over it.
    Fig4,
}

/// Arguments of `cryorbf reproduce`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to reproduce.
    #[arg(value_enum)]
    pub table: Table,
    /// The paper's structure (5NI1).
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// Chain(s) to use (paper: A).
    #[arg(long, value_delimiter = ',', default_value = "A")]
    pub chain: Vec<String>,
    /// Output folder: the datasets (data/, data_<distribution>/), one run folder per row, and
    /// table1.md, table2.md or fig4.md (+ fig4.png).
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
    /// Warm-up epochs that refine σ and a₀ before the centers are reset (paper: 1).
    #[arg(long, default_value_t = 1)]
    pub warmup_epochs: usize,
    /// Strength of the steric prior (see `cryorbf train --steric-strength`; 0: off, as in the
    /// paper).
    #[arg(long, default_value_t = 0.0)]
    pub steric_strength: f64,
    /// Where the side-chain RBFs of a moved start begin (see `cryorbf train --side-chain-start`;
    /// ca, as in the paper).
    #[arg(long, value_enum, default_value_t = SideChainStart::Ca)]
    pub side_chain_start: SideChainStart,
    /// Strength of the side-chain frame prior (see `cryorbf train --side-chain-frame-strength`;
    /// 0: off, as in the paper).
    #[arg(long, default_value_t = 0.0)]
    pub side_chain_frame_strength: f64,
    /// Strength of the backbone frame prior (see `cryorbf train --backbone-frame-strength`; 0:
    /// off, as in the paper).
    #[arg(long, default_value_t = 0.0)]
    pub backbone_frame_strength: f64,
    /// Where the frame priors take their distances (table1, table2; see `cryorbf train
    /// --side-chain-frame-from`).
    #[arg(long, value_enum, default_value_t = FrameFrom::Reference)]
    pub side_chain_frame_from: FrameFrom,
    /// Units in which Adam learns the centers (table1, table2; see `cryorbf train --lr-units`).
    #[arg(long, value_enum, default_value_t = LrUnits::Box)]
    pub lr_units: LrUnits,
    /// fig4: the distributions to run (default: all four of the paper's Fig. 4).
    #[arg(long, value_delimiter = ',', default_value = "uniform,barrier,barrier2,two-clusters")]
    pub distributions: Vec<String>,
    /// fig4: strength of the Cα–Cα bond prior (default 10). With Cα-only images the image term
    /// cannot tell one Cα from the next, and at the paper's strength of 1 stretches of three
    /// residues settle into each other's density (a permuted register); 10 prevents it.
    #[arg(long, default_value_t = 10.0)]
    pub fig4_bond_strength: f64,
    /// fig4: what the VAE's encoder reads (image: the paper's; score: pose-independent).
    #[arg(long, value_enum, default_value_t = EncoderInputArg::Image)]
    pub encoder_input: EncoderInputArg,
    /// fig4: keep the side-chain RBFs (the datasets hold Cα atoms only, so by default the model
    /// has backbone RBFs only).
    #[arg(long)]
    pub side_chains: bool,
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
        // The rows of fig4 are distributions: see `fig4`.
        Table::Fig4 => Vec::new(),
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
    let plain = rbf_train::Backend::from(args.device).device(false)?;
    let table = match args.table {
        Table::Table1 => "table1",
        Table::Table2 => "table2",
        Table::Fig4 => return fig4(args, n_images, &plain),
    };
    let data = args.out.join("data");
    ensure_dataset(&simulation(args, &data, n_images), &plain)?;

    let mut results = Vec::new();
    for (i, row) in rows(args.table).iter().enumerate() {
        println!("\n== {table} row {}: {} (init {}) ==", i + 1, row.name, row.init);
        let out = args.out.join(format!("{table}{}_row{}", args.tag, i + 1));
        let mut run = row_run_args(args, &data, row.init, out);
        run.bond_strength = row.bond_strength;
        run.no_side_chains = row.no_side_chains;
        let train = super::train::Args {
            run,
            image_weight: row.image_weight,
            coarse_sigma: args.coarse_sigma,
            anneal_noise: args.anneal_noise,
            schedule_epochs: args.schedule_epochs,
            ctf: super::train::CtfMode::Auto,
            lr_units: args.lr_units,
            side_chain_frame_from: args.side_chain_frame_from,
        };
        results.push(run_row(train, super::train::run)?);
    }
    let markdown = table_markdown(args, n_images, &rows(args.table), &results);
    let path = args.out.join(format!("{table}{}.md", args.tag));
    rbf_io::atomic::write_atomically(&path, |w| std::io::Write::write_all(w, markdown.as_bytes()))?;
    println!("\n{markdown}\nwrote {}", path.display());
    Ok(())
}

/// The shared training arguments of a row: particles and truth from the simulator folder `data`,
/// the paper's settings and the command's.
fn row_run_args(args: &Args, data: &Path, init: &str, out: PathBuf) -> RunArgs {
    RunArgs {
        inputs: InputArgs {
            particles: Some(data.to_path_buf()),
            datadir: None,
            reference: Some(args.reference.clone()),
            chain: args.chain.clone(),
            reference_shift: None,
            truth: Some(data.to_path_buf()),
            truth_resolution: None,
            downsample: None,
            map: None,
            preprocess: Default::default(),
        },
        init: init.to_string(),
        side_chain_start: args.side_chain_start,
        epochs: Some(args.epochs),
        warmup_epochs: args.warmup_epochs,
        batch: args.batch,
        lr: args.lr,
        seed: args.seed,
        bond_strength: 1.0,
        side_chain_strength: 1.0,
        steric_strength: args.steric_strength,
        side_chain_frame_strength: args.side_chain_frame_strength,
        backbone_frame_strength: args.backbone_frame_strength,
        no_side_chains: false,
        sigma: 3.71,
        a0: None,
        noise_variance: None,
        device: args.device,
        out: Some(out),
        force: true,
        resume: None,
        quiet: false,
    }
}

/// Fig. 3 and 4: one heterogeneous dataset per distribution, a VAE trained on each from the
/// state-0 structure (the reference itself), each analysed, and all four summed up in `fig4.md`
/// and `fig4.png`.
fn fig4(args: &Args, n_images: usize, device: &burn::prelude::Device) -> anyhow::Result<()> {
    let distributions: Vec<Distribution> = args
        .distributions
        .iter()
        .map(|d| d.parse::<Distribution>().with_context(|| format!("--distributions {d}")))
        .collect::<anyhow::Result<_>>()?;
    let mut results = Vec::new();
    for distribution in distributions {
        let name = distribution.to_string();
        println!("\n== fig4: {name} ==");
        let data = args.out.join(format!("data_{name}"));
        let config = SimulationConfig {
            atoms: AtomSelection::Ca,
            motion: Some(Motion::Dihedral(DihedralMotion::default())),
            distribution,
            ..simulation(args, &data, n_images)
        };
        ensure_dataset(&config, device)?;
        let out = args.out.join(format!("fig4{}_{name}", args.tag));
        let mut run = row_run_args(args, &data, "exact", out.clone());
        run.no_side_chains = !args.side_chains;
        run.bond_strength = args.fig4_bond_strength;
        let train = super::train_vae::Args { run, zdim: 1, kl_weight: 1.0, width: 256, layers: 3, encoder_input: args.encoder_input };
        let summary = run_row(train, super::train_vae::run)?;
        let vae = VaeRun::open(&out, device)?;
        let truth = StateTruth::from_simulation(&data, &vae.model).with_context(|| format!("ground truth in {}", data.display()))?;
        let analysis = analyze(&vae, Some(&truth), &out.join("analysis"), false)?;
        println!("analysis in {}", out.join("analysis").display());
        results.push((name, summary, analysis));
    }
    // One segment per run of populated states, so that empty stretches show as gaps.
    let series: Vec<(String, Vec<Vec<(f64, f64)>>)> = results
        .iter()
        .map(|(name, _, a)| {
            let mut segments = vec![Vec::new()];
            for r in a.states.iter().flatten() {
                match (r.ca_rmse, segments.last_mut()) {
                    (Some(e), Some(segment)) => segment.push((r.coordinate, e)),
                    (None, Some(segment)) if !segment.is_empty() => segments.push(Vec::new()),
                    _ => {}
                }
            }
            (name.clone(), segments)
        })
        .collect();
    let plot = args.out.join(format!("fig4{}.png", args.tag));
    rbf_train::plots::rmse_curves(&plot, &series)?;
    let markdown = fig4_markdown(args, n_images, &results);
    let path = args.out.join(format!("fig4{}.md", args.tag));
    rbf_io::atomic::write_atomically(&path, |w| std::io::Write::write_all(w, markdown.as_bytes()))?;
    println!("\n{markdown}\nwrote {} and {}", path.display(), plot.display());
    Ok(())
}

/// `fig4.md`: a summary row per distribution, then the Cα RMSE at every fifth true coordinate.
fn fig4_markdown(args: &Args, n_images: usize, results: &[(String, VaeSummary, AnalysisSummary)]) -> String {
    let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{n_images} images per distribution (box 128, 1 Å/px, Cα atoms at 3 Å, SNR 0.1, shifts ±10 px; ψ of the middle residue \
         rotated by 0.25 rad over 50 states), VAE from the state-0 structure ({}), bond strength {}, \
         zdim 1, width 256, 3 layers, encoder input {}, batch {}, lr {}, {} warm-up + {} epochs, seed {}. Paper: a latent \"well correlated\" with the true \
         coordinate and near-exact recovery where the distribution has mass; poor recovery across empty regions.\n",
        if args.side_chains { "backbone and side-chain RBFs" } else { "backbone RBFs only" },
        args.fig4_bond_strength,
        match args.encoder_input {
            EncoderInputArg::Image => "image (the paper's)",
            EncoderInputArg::Score => "score",
        },
        args.batch,
        args.lr,
        args.warmup_epochs,
        args.epochs,
        args.seed
    );
    let _ = writeln!(s, "| distribution | Spearman ρ | mean Cα RMSE (Å) | max Cα RMSE (Å) | RMSE at the ends (Å) | training (s) |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for (name, summary, analysis) in results {
        let rows = analysis.states.as_deref().unwrap_or_default();
        let errors: Vec<f64> = rows.iter().filter_map(|r| r.ca_rmse).collect();
        let mean = (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64);
        let max = errors.iter().copied().reduce(f64::max);
        let ends = format!("{} / {}", fmt(rows.first().and_then(|r| r.ca_rmse)), fmt(rows.last().and_then(|r| r.ca_rmse)));
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {ends} | {:.0} |",
            analysis.spearman.map_or("–".into(), |r| format!("{r:.3}")),
            fmt(mean),
            fmt(max),
            summary.train_seconds
        );
    }
    let _ = writeln!(s, "\nCα RMSE (Å) of the structure at the median latent of each true state (– : no particles there):\n");
    let names: Vec<&str> = results.iter().map(|(n, _, _)| n.as_str()).collect();
    let _ = writeln!(s, "| state | coordinate (rad) | {} |", names.join(" | "));
    let _ = writeln!(s, "|---|---|{}", "---|".repeat(names.len()));
    let states = results.first().and_then(|(_, _, a)| a.states.as_ref()).map_or(0, Vec::len);
    for k in (0..states).filter(|k| k % 5 == 0 || k + 1 == states) {
        let coordinate = results[0].2.states.as_ref().map_or(0.0, |r| r[k].coordinate);
        let cells: Vec<String> =
            results.iter().map(|(_, _, a)| fmt(a.states.as_ref().and_then(|r| r.get(k)).and_then(|r| r.ca_rmse))).collect();
        let _ = writeln!(s, "| {k} | {coordinate:.3} | {} |", cells.join(" | "));
    }
    s
}

/// Train one row, or pick up where an earlier `reproduce` left it: a row folder that holds a
/// checkpoint of the same settings is resumed (a finished one just reports its result), so an
/// interrupted `reproduce` costs only the rows it had not finished.
fn run_row<A: HasRunArgs, S>(mut train: A, run: fn(&A) -> anyhow::Result<S>) -> anyhow::Result<S> {
    let out = train.run_args().out.clone().context("a row needs its folder")?;
    let same_settings = || -> Option<bool> {
        let text = std::fs::read_to_string(out.join(super::run_args::ARGS_FILE)).ok()?;
        let saved: A = serde_json::from_str(&text).ok()?;
        let comparable = |a: &A| {
            let mut v = serde_json::to_value(a).ok()?;
            v["quiet"] = serde_json::Value::Null;
            v["force"] = serde_json::Value::Null;
            Some(v)
        };
        Some(comparable(&saved)? == comparable(&train)?)
    };
    let checkpoint = out.join(rbf_train::CHECKPOINT_DIR);
    if checkpoint.is_dir() && same_settings() == Some(true) {
        println!("resuming the row in {} (same settings)", out.display());
        let shared = train.run_args_mut();
        shared.resume = Some(out);
        shared.out = None;
    }
    run(&train)
}

/// The paper's homogeneous dataset (App. A.1), to be written into `dir`.
fn simulation(args: &Args, dir: &Path, n_images: usize) -> SimulationConfig {
    SimulationConfig {
        structure: args.reference.clone(),
        chains: args.chain.clone(),
        out_dir: dir.to_path_buf(),
        n_images,
        seed: args.seed,
        force: true,
        ..SimulationConfig::default()
    }
}

/// Simulate `config`, unless its folder holds a simulation with the same settings.
fn ensure_dataset(config: &SimulationConfig, device: &burn::prelude::Device) -> anyhow::Result<()> {
    let dir = &config.out_dir;
    let n_images = config.n_images;
    let record = dir.join(rbf_sim::simulate::RECORD_FILE);
    if let Ok(text) = std::fs::read_to_string(&record) {
        let old: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut wanted = serde_json::to_value(config)?;
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
    println!("simulating {n_images} images of {} chain {} into {}", config.structure.display(), config.chains.join(","), dir.display());
    let bar = indicatif::ProgressBar::new(n_images as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("simulate [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    rbf_sim::simulate(config, device, |done| bar.set_position(done as u64))?;
    bar.finish();
    Ok(())
}

fn table_markdown(args: &Args, n_images: usize, rows: &[Row], results: &[Summary]) -> String {
    let fmt = |v: Option<f64>, digits: usize| v.map_or("–".to_string(), |v| format!("{v:.digits$}"));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} images (box 128, 1 Å/px, all atoms at 3 Å, SNR 0.1, shifts ±10 px), batch {}, lr {} (centers in {} units), {} warm-up + {} epochs, seed {}, \
         coarse σ {} Å, annealing noise {} Å (decaying over {} epochs), steric strength {}, side chains start {}, side-chain frame strength {}, backbone frame strength {}{}.\n",
        n_images,
        args.batch,
        args.lr,
        match args.lr_units {
            LrUnits::Box => "box",
            LrUnits::Angstrom => "Å",
        },
        args.warmup_epochs,
        args.epochs,
        args.seed,
        args.coarse_sigma,
        args.anneal_noise,
        args.schedule_epochs,
        args.steric_strength,
        match args.side_chain_start {
            SideChainStart::Ca => "at their Cα",
            SideChainStart::Frame => "in their Cα frames",
        },
        args.side_chain_frame_strength,
        args.backbone_frame_strength,
        match (args.side_chain_frame_strength > 0.0 || args.backbone_frame_strength > 0.0, args.side_chain_frame_from) {
            (false, _) => "",
            (true, FrameFrom::Reference) => " (distances from the reference)",
            (true, FrameFrom::Start) => " (distances from the start)",
        }
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
