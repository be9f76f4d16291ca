//! Encoder, decoder, reparameterisation and KL divergence of the heterogeneous model.
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::mlp::{ResMlp, ResMlpConfig};

/// Configuration of the [`Encoder`].
#[derive(Config, Debug)]
pub struct EncoderConfig {
    /// Length of the feature vector it reads per particle: `D²` for an image of edge `D`
    /// (the paper's encoder), or any other per-particle features.
    pub input_dim: usize,
    /// Latent dimension (paper: 1).
    #[config(default = 1)]
    pub latent_dim: usize,
    /// Hidden width (paper: 256).
    #[config(default = 256)]
    pub width: usize,
    /// Hidden layers (paper: 3).
    #[config(default = 3)]
    pub layers: usize,
}

impl EncoderConfig {
    /// Build the encoder.
    pub fn init(&self, device: &Device) -> Encoder {
        Encoder {
            mlp: ResMlpConfig::new(self.input_dim, 2 * self.latent_dim).with_width(self.width).with_layers(self.layers).init(device),
            latent_dim: self.latent_dim,
        }
    }
}

/// Maps a particle (its image, or other features of it) to the mean and log-variance of its
/// latent.
#[derive(Module, Debug)]
pub struct Encoder {
    /// The network, `input_dim → 2·latent_dim`.
    pub mlp: ResMlp,
    /// Latent dimension.
    pub latent_dim: usize,
}

/// The approximate posterior of a batch of latents.
#[derive(Debug, Clone)]
pub struct Latent {
    /// Mean, `[batch, latent_dim]`.
    pub mean: Tensor<2>,
    /// Log-variance, `[batch, latent_dim]`.
    pub log_var: Tensor<2>,
}

impl Encoder {
    /// The latents of images (an encoder of `input_dim = D²`).
    ///
    /// # Shapes
    /// `images`: `[batch, D, D]` → latents of `[batch, latent_dim]`.
    pub fn forward(&self, images: Tensor<3>) -> Latent {
        let [batch, h, w] = images.dims();
        self.forward_features(images.reshape([batch, h * w]))
    }

    /// The latents of per-particle feature vectors.
    ///
    /// # Shapes
    /// `features`: `[batch, input_dim]` → latents of `[batch, latent_dim]`.
    pub fn forward_features(&self, features: Tensor<2>) -> Latent {
        let out = self.mlp.forward(features);
        Latent { mean: out.clone().narrow(1, 0, self.latent_dim), log_var: out.narrow(1, self.latent_dim, self.latent_dim) }
    }
}

/// Configuration of the offset [`Decoder`].
#[derive(Config, Debug)]
pub struct DecoderConfig {
    /// Number of RBFs whose centers it moves.
    pub n_rbf: usize,
    /// Latent dimension (paper: 1).
    #[config(default = 1)]
    pub latent_dim: usize,
    /// Hidden width (paper: 256).
    #[config(default = 256)]
    pub width: usize,
    /// Hidden layers (paper: 3).
    #[config(default = 3)]
    pub layers: usize,
}

impl DecoderConfig {
    /// Build the decoder. Its output layer starts at zero, so that every latent first decodes to
    /// the base structure.
    pub fn init(&self, device: &Device) -> Decoder {
        Decoder {
            mlp: ResMlpConfig::new(self.latent_dim, 3 * self.n_rbf)
                .with_width(self.width)
                .with_layers(self.layers)
                .with_zero_output(true)
                .init(device),
            n_rbf: self.n_rbf,
        }
    }
}

/// Maps a latent to an offset (Å) of every RBF center.
#[derive(Module, Debug)]
pub struct Decoder {
    /// The network, `latent_dim → 3·n_rbf`.
    pub mlp: ResMlp,
    /// Number of RBFs.
    pub n_rbf: usize,
}

impl Decoder {
    /// # Shapes
    /// `z`: `[batch, latent_dim]` → offsets `[batch, n_rbf, 3]` (Å).
    pub fn forward(&self, z: Tensor<2>) -> Tensor<3> {
        let batch = z.dims()[0];
        self.mlp.forward(z).reshape([batch, self.n_rbf, 3])
    }
}

/// A sample `z = mean + ε·exp(log_var/2)`, `ε ~ N(0, 1)` (the reparameterisation trick), with
/// `ε` drawn by the backend.
pub fn reparameterize(latent: &Latent) -> Tensor<2> {
    reparameterize_with_noise(latent, latent.mean.random_like(Distribution::Normal(0.0, 1.0)))
}

/// `z = mean + ε·exp(log_var/2)` for a given standard-normal `ε` (for runs that draw `ε` from
/// their own seeded generator, so that a resumed run sees the same draws).
///
/// # Shapes
/// `eps`: `[batch, latent_dim]`, like the latent.
pub fn reparameterize_with_noise(latent: &Latent, eps: Tensor<2>) -> Tensor<2> {
    latent.mean.clone() + eps * latent.log_var.clone().mul_scalar(0.5).exp()
}

/// KL divergence of `N(mean, exp(log_var))` from `N(0, 1)`, summed over latent dimensions and
/// averaged over the batch: `−½ Σ (1 + log_var − mean² − exp(log_var))`.
///
/// # Shapes
/// → `[1]`.
pub fn kl_divergence(latent: &Latent) -> Tensor<1> {
    let batch = latent.mean.dims()[0];
    let terms = latent.log_var.clone().add_scalar(1.0) - latent.mean.clone().powi_scalar(2) - latent.log_var.clone().exp();
    terms.sum().mul_scalar(-0.5 / batch as f64)
}
