//! The heterogeneous RBF model (paper §3, Fig. 2B): a VAE whose encoder maps a particle image to
//! a latent `z` and whose decoder maps `z` to an offset of every RBF center, so that each image is
//! explained by its own structure `μ + D(z)`.
//!
//! - [`mlp`]: the residual MLP both networks are made of (default 3 layers of width 256).
//! - [`vae`]: encoder, decoder, reparameterisation and the KL term.
#![warn(missing_docs)]

pub mod mlp;
pub mod vae;

pub use mlp::{ResMlp, ResMlpConfig};
pub use vae::{Decoder, DecoderConfig, Encoder, EncoderConfig, Latent, kl_divergence, reparameterize, reparameterize_with_noise};
