//! Shapes, initial state and the KL term of the VAE pieces.
use burn::prelude::*;
use rbf_vae::{DecoderConfig, EncoderConfig, Latent, ResMlpConfig, kl_divergence, reparameterize};

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

fn tensor2(v: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

#[test]
fn encoder_and_decoder_shapes_and_the_zero_start() {
    let device = Device::flex();
    let encoder = EncoderConfig::new(16 * 16).with_latent_dim(2).with_width(32).init(&device);
    let latent = encoder.forward(Tensor::random([5, 16, 16], burn::tensor::Distribution::Normal(0.0, 1.0), &device));
    assert_eq!(latent.mean.dims(), [5, 2]);
    assert_eq!(latent.log_var.dims(), [5, 2]);
    let decoder = DecoderConfig::new(7).with_latent_dim(2).with_width(32).init(&device);
    let offsets = decoder.forward(reparameterize(&latent));
    assert_eq!(offsets.dims(), [5, 7, 3]);
    // The decoder starts at zero: every latent decodes to the base structure.
    assert!(to_vec(offsets).iter().all(|&v| v == 0.0));
}

#[test]
fn residual_mlp_adds_its_hidden_layers() {
    // With all hidden weights and biases zero, relu(0) = 0 adds nothing: the output equals a
    // network without hidden layers.
    let device = Device::flex();
    let mut deep = ResMlpConfig::new(3, 2).with_width(8).with_layers(3).init(&device);
    let shallow = ResMlpConfig::new(3, 2).with_width(8).with_layers(1).init(&device);
    deep.input = shallow.input.clone();
    deep.output = shallow.output.clone();
    for layer in &mut deep.hidden {
        layer.weight = layer.weight.clone().map(|w| w.zeros_like());
        layer.bias = layer.bias.clone().map(|b| b.map(|t| t.zeros_like()));
    }
    let x = tensor2(vec![0.3, -1.0, 2.0, 1.5, 0.2, -0.7], [2, 3], &device);
    assert_eq!(to_vec(deep.forward(x.clone())), to_vec(shallow.forward(x.clone())));
    // And with non-zero hidden weights it differs.
    let deep = ResMlpConfig::new(3, 2).with_width(8).with_layers(3).init(&device);
    let mut other = deep.clone();
    other.hidden.clear();
    assert_ne!(to_vec(deep.forward(x.clone())), to_vec(other.forward(x)));
}

#[test]
fn kl_divergence_matches_the_closed_form() {
    let device = Device::flex();
    let mean = [0.5f32, -1.0, 0.0, 2.0];
    let log_var = [0.0f32, -0.5, 0.3, 1.0];
    let latent = Latent { mean: tensor2(mean.to_vec(), [2, 2], &device), log_var: tensor2(log_var.to_vec(), [2, 2], &device) };
    let want: f64 = mean
        .iter()
        .zip(&log_var)
        .map(|(&m, &lv)| -0.5 * (1.0 + f64::from(lv) - f64::from(m).powi(2) - f64::from(lv).exp()))
        .sum::<f64>()
        / 2.0;
    let got = f64::from(to_vec(kl_divergence(&latent))[0]);
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    // The prior itself has zero divergence.
    let prior = Latent { mean: tensor2(vec![0.0; 4], [2, 2], &device), log_var: tensor2(vec![0.0; 4], [2, 2], &device) };
    assert!(f64::from(to_vec(kl_divergence(&prior))[0]).abs() < 1e-7);
}

#[test]
fn reparameterized_samples_have_the_posterior_moments() {
    let device = Device::flex();
    let n = 20000;
    let latent = Latent { mean: tensor2(vec![1.5; n], [n, 1], &device), log_var: tensor2(vec![(0.25f32).ln(); n], [n, 1], &device) };
    let z = to_vec(reparameterize(&latent));
    let mean = z.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let var = z.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n as f64;
    assert!((mean - 1.5).abs() < 0.02, "{mean}");
    assert!((var - 0.25).abs() < 0.02, "{var}");
}
