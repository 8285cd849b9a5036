//! MobileNetV2 (Sandler et al., 2018) for inference, as torchvision defines it, on candle.
//!
//! Batch norms are folded into the convolution before them when the weights are loaded, so a
//! forward pass is 52 convolutions and one linear layer: pointwise (1 x 1) convolutions are
//! matrix products, depthwise ones the custom op in [`super::depthwise`].

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use super::depthwise::Depthwise3x3;

/// torchvision's batch-norm epsilon.
const BN_EPS: f64 = 1e-5;

/// The inverted-residual stages: expansion factor, output channels, repeats, first stride.
const STAGES: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// Input side in pixels.
pub(super) const INPUT_SIDE: usize = 224;
/// ImageNet-1k.
pub(super) const CLASSES: usize = 1000;

/// Why the weights do not make a MobileNetV2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct WeightsError(pub String);

impl From<candle_core::Error> for WeightsError {
    fn from(e: candle_core::Error) -> Self {
        Self(e.to_string())
    }
}

/// A 1 x 1 convolution with its batch norm folded in: `(cout, cin)` weights, then the bias
/// and the activation in one pass ([`BiasRelu6`]).
struct Pointwise {
    weight: Tensor,
    bias: BiasRelu6,
}

impl Pointwise {
    /// `x`: `(cin, h * w)`; returns `(cout, h * w)`.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.weight.matmul(x)?.apply_op1_no_bwd(&self.bias)
    }
}

/// `y[c, i] = act(x[c, i] + bias[c])` on a contiguous `(channels, n)` tensor, where `act` is
/// ReLU6 or nothing: one pass and one allocation, where candle's broadcast add and clamp take
/// two of each (elementwise passes and fresh pages were a third of the time in a profile).
struct BiasRelu6 {
    bias: Vec<f32>,
    relu6: bool,
}

impl candle_core::CustomOp1 for BiasRelu6 {
    fn name(&self) -> &'static str {
        "bias-relu6"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let candle_core::CpuStorage::F32(all) = storage else {
            candle_core::bail!("bias-relu6: f32 input expected");
        };
        let (channels, n) = layout.shape().dims2()?;
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("bias-relu6: contiguous input expected");
        };
        if channels != self.bias.len() {
            candle_core::bail!(
                "bias-relu6: {channels} channels, {} biases",
                self.bias.len()
            );
        }
        let mut out = all[start..end].to_vec();
        for (row, &b) in out.chunks_exact_mut(n.max(1)).zip(&self.bias) {
            if self.relu6 {
                for v in row {
                    *v = (*v + b).clamp(0.0, 6.0);
                }
            } else {
                for v in row {
                    *v += b;
                }
            }
        }
        Ok((candle_core::CpuStorage::F32(out), layout.shape().clone()))
    }
}

struct Block {
    expand: Option<Pointwise>,
    depthwise: Depthwise3x3,
    project: Pointwise,
    residual: bool,
}

/// The network, ready to run.
pub(super) struct MobileNetV2 {
    stem_weight: Tensor,
    stem_bias: Tensor,
    blocks: Vec<Block>,
    head: Pointwise,
    classifier_weight: Tensor,
    classifier_bias: Tensor,
}

/// Reads torchvision's tensors by name, checking each shape.
struct Weights<'a>(&'a HashMap<String, Tensor>);

impl Weights<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor, WeightsError> {
        let t = self
            .0
            .get(name)
            .ok_or_else(|| WeightsError(format!("tensor {name} is missing")))?;
        if t.dims() != shape {
            return Err(WeightsError(format!(
                "tensor {name} has shape {:?}, expected {shape:?}",
                t.dims()
            )));
        }
        Ok(t.to_dtype(DType::F32)?)
    }

    /// Convolution `conv` (`(cout, rest...)`) with batch norm `bn` folded in:
    /// `(weights * scale, beta - mean * scale)` with `scale = gamma / sqrt(var + eps)`.
    fn folded(
        &self,
        conv: &str,
        bn: &str,
        shape: &[usize],
    ) -> Result<(Tensor, Tensor), WeightsError> {
        let cout = shape[0];
        let w = self.get(&format!("{conv}.weight"), shape)?;
        let gamma = self.get(&format!("{bn}.weight"), &[cout])?;
        let beta = self.get(&format!("{bn}.bias"), &[cout])?;
        let mean = self.get(&format!("{bn}.running_mean"), &[cout])?;
        let var = self.get(&format!("{bn}.running_var"), &[cout])?;
        let scale = (gamma / (var + BN_EPS)?.sqrt()?)?;
        let mut scale_shape = vec![cout];
        scale_shape.extend(std::iter::repeat_n(1, shape.len() - 1));
        let w = w.broadcast_mul(&scale.reshape(scale_shape)?)?;
        let b = (beta - (mean * &scale)?)?;
        Ok((w, b))
    }

    fn pointwise(
        &self,
        conv: &str,
        bn: &str,
        cin: usize,
        cout: usize,
        relu6: bool,
    ) -> Result<Pointwise, WeightsError> {
        let (w, b) = self.folded(conv, bn, &[cout, cin, 1, 1])?;
        Ok(Pointwise {
            weight: w.reshape((cout, cin))?.contiguous()?,
            bias: BiasRelu6 {
                bias: b.to_vec1()?,
                relu6,
            },
        })
    }

    fn depthwise(
        &self,
        conv: &str,
        bn: &str,
        channels: usize,
        stride: usize,
    ) -> Result<Depthwise3x3, WeightsError> {
        let (w, b) = self.folded(conv, bn, &[channels, 1, 3, 3])?;
        Ok(Depthwise3x3 {
            weights: w.flatten_all()?.to_vec1()?,
            bias: b.to_vec1()?,
            stride,
        })
    }
}

impl MobileNetV2 {
    /// Builds the network from torchvision's state dict (any float dtype). Every tensor the
    /// network needs must be there with its exact shape; extra tensors are an error too, so
    /// that a different model is not taken for this one.
    pub(super) fn from_state(state: &HashMap<String, Tensor>) -> Result<Self, WeightsError> {
        let w = Weights(state);
        let mut used = 0usize;
        let (stem_w, stem_b) = w.folded("features.0.0", "features.0.1", &[32, 3, 3, 3])?;
        used += 5;
        let mut blocks = Vec::new();
        let mut cin = 32;
        let mut index = 1;
        for (t, cout, repeats, first_stride) in STAGES {
            for r in 0..repeats {
                let stride = if r == 0 { first_stride } else { 1 };
                let hidden = cin * t;
                let p = format!("features.{index}.conv");
                let (expand, dw, project_conv, project_bn) = if t == 1 {
                    (None, 0, format!("{p}.1"), format!("{p}.2"))
                } else {
                    let e =
                        w.pointwise(&format!("{p}.0.0"), &format!("{p}.0.1"), cin, hidden, true)?;
                    used += 5;
                    (Some(e), 1, format!("{p}.2"), format!("{p}.3"))
                };
                let depthwise = w.depthwise(
                    &format!("{p}.{dw}.0"),
                    &format!("{p}.{dw}.1"),
                    hidden,
                    stride,
                )?;
                let project = w.pointwise(&project_conv, &project_bn, hidden, cout, false)?;
                used += 10;
                blocks.push(Block {
                    expand,
                    depthwise,
                    project,
                    residual: stride == 1 && cin == cout,
                });
                cin = cout;
                index += 1;
            }
        }
        let head = w.pointwise(
            &format!("features.{index}.0"),
            &format!("features.{index}.1"),
            cin,
            1280,
            true,
        )?;
        let classifier_weight = w.get("classifier.1.weight", &[CLASSES, 1280])?;
        let classifier_bias = w.get("classifier.1.bias", &[CLASSES])?;
        used += 7;
        let floats = state.values().filter(|t| t.dtype().is_float()).count();
        if floats != used {
            return Err(WeightsError(format!(
                "{floats} weight tensors, a MobileNetV2 has {used}"
            )));
        }
        Ok(Self {
            stem_weight: stem_w,
            stem_bias: stem_b.reshape((32, 1, 1))?,
            blocks,
            head,
            classifier_weight,
            classifier_bias: classifier_bias.reshape((CLASSES, 1))?,
        })
    }

    /// Logits for one normalised `(3, 224, 224)` image.
    pub(super) fn forward(&self, image: &Tensor) -> candle_core::Result<Tensor> {
        let x = image
            .unsqueeze(0)?
            .conv2d(&self.stem_weight, 1, 2, 1, 1)?
            .squeeze(0)?
            .broadcast_add(&self.stem_bias)?
            .clamp(0f32, 6f32)?;
        let (_, mut h, mut w) = x.dims3()?;
        let mut x = x.flatten_from(1)?;
        for block in &self.blocks {
            let input = x.clone();
            let expanded = match &block.expand {
                Some(e) => e.forward(&x)?,
                None => x,
            };
            let channels = expanded.dim(0)?;
            let spatial = expanded
                .reshape((channels, h, w))?
                .apply_op1_no_bwd(&block.depthwise)?;
            (_, h, w) = spatial.dims3()?;
            x = block.project.forward(&spatial.flatten_from(1)?)?;
            if block.residual {
                x = (x + input)?;
            }
        }
        let features = self.head.forward(&x)?.mean_keepdim(1)?;
        self.classifier_weight
            .matmul(&features)?
            .broadcast_add(&self.classifier_bias)?
            .squeeze(1)
    }
}

/// The device every tensor lives on.
pub(super) fn device() -> Device {
    Device::Cpu
}
