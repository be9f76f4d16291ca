//! A multilayer perceptron with residual connections between its hidden layers:
//! `h₀ = relu(W₀x)`, `h_k = h_(k−1) + relu(W_k h_(k−1))`, `y = W_out h_(L−1)`.
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// Configuration of a [`ResMlp`].
#[derive(Config, Debug)]
pub struct ResMlpConfig {
    /// Input width.
    pub d_input: usize,
    /// Output width.
    pub d_output: usize,
    /// Hidden width (paper: 256).
    #[config(default = 256)]
    pub width: usize,
    /// Number of hidden layers, the input layer included (paper: 3).
    #[config(default = 3)]
    pub layers: usize,
    /// Start the output layer at zero, so that the network first outputs zeros.
    #[config(default = false)]
    pub zero_output: bool,
}

impl ResMlpConfig {
    /// Build the network.
    ///
    /// # Panics
    /// If `layers` is 0 (a programming error; the CLI validates user input).
    pub fn init(&self, device: &Device) -> ResMlp {
        assert!(self.layers >= 1, "a ResMlp needs at least one hidden layer, got {}", self.layers);
        let output = LinearConfig::new(self.width, self.d_output);
        let output = if self.zero_output { output.with_initializer(Initializer::Zeros) } else { output };
        ResMlp {
            input: LinearConfig::new(self.d_input, self.width).init(device),
            hidden: (1..self.layers).map(|_| LinearConfig::new(self.width, self.width).init(device)).collect(),
            output: output.init(device),
        }
    }
}

/// A residual MLP.
#[derive(Module, Debug)]
pub struct ResMlp {
    /// First layer, `d_input → width`.
    pub input: Linear,
    /// Residual hidden layers, `width → width`.
    pub hidden: Vec<Linear>,
    /// Output layer, `width → d_output`.
    pub output: Linear,
}

impl ResMlp {
    /// # Shapes
    /// `x`: `[batch, d_input]` → `[batch, d_output]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = relu(self.input.forward(x));
        for layer in &self.hidden {
            h = h.clone() + relu(layer.forward(h));
        }
        self.output.forward(h)
    }
}
