//! Criterion benches of the preprocessing of particle images (`--normalize`, `--lowpass`, `--mask`),
//! each step alone and all three, per image of a 128-pixel box at 1.2 Å/pixel, against reading
//! the image unprocessed (a copy from memory). Throughput is in images per second.
//!
//! `cargo bench --bench preprocess` (add `-- --quick` for a short run).
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cryorbf::train::data::{InMemoryParticles, ParticleSource};
use cryorbf::train::preprocess::{Preprocessed, Preprocessing};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BOX: usize = 128;
const IMAGES: usize = 16;

fn particles() -> InMemoryParticles {
    let mut rng = StdRng::seed_from_u64(0);
    InMemoryParticles {
        images: (0..IMAGES * BOX * BOX).map(|_| rng.random_range(-1.0f32..1.0)).collect(),
        rotations: vec![[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]; IMAGES],
        shifts: vec![[0.0; 2]; IMAGES],
        box_size: BOX,
        pixel_size: 1.2,
        ctf: Vec::new(),
    }
}

fn preprocess(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("preprocess/box{BOX}"));
    group.throughput(Throughput::Elements(1));
    let off = Preprocessing::default();
    let cases = [
        ("none", off),
        ("normalize", Preprocessing { normalize: true, ..off }),
        ("lowpass_8A", Preprocessing { lowpass: Some(8.0), ..off }),
        ("mask_60A", Preprocessing { mask_radius: Some(60.0), ..off }),
        ("all", Preprocessing { normalize: true, lowpass: Some(8.0), mask_radius: Some(60.0) }),
    ];
    let mut image = vec![0.0f32; BOX * BOX];
    for (name, options) in cases {
        let data = Preprocessed::new(particles(), options).expect("valid options");
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % IMAGES;
                data.read_image(i, &mut image).expect("in memory");
                image[0]
            })
        });
    }
    group.finish();
}

criterion_group!(benches, preprocess);
criterion_main!(benches);
