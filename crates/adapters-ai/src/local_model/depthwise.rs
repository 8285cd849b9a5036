//! The depthwise 3 x 3 convolution of MobileNetV2, with its folded batch norm and ReLU6, as a
//! candle custom op.
//!
//! candle runs a depthwise layer as a grouped convolution, one small im2col and matrix product
//! per channel, which made it most of an image's time. Here each output row is built as nine
//! shifted multiply-adds over contiguous input rows, which the compiler vectorises; the
//! results are the same sums in the same order per tap.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

/// `relu6(depthwise3x3(x, weights, stride, padding 1) + bias)` on a `(channels, h, w)` tensor.
pub(super) struct Depthwise3x3 {
    /// `channels * 9` taps, row-major per channel (batch norm folded in).
    pub weights: Vec<f32>,
    /// One bias per channel (batch norm folded in).
    pub bias: Vec<f32>,
    /// 1 or 2.
    pub stride: usize,
}

impl Depthwise3x3 {
    fn output_side(side: usize, stride: usize) -> usize {
        (side + 2 - 3) / stride + 1
    }
}

impl CustomOp1 for Depthwise3x3 {
    fn name(&self) -> &'static str {
        "depthwise3x3-bias-relu6"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(all) = storage else {
            candle_core::bail!("depthwise: f32 input expected");
        };
        let (channels, height, width) = layout.shape().dims3()?;
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("depthwise: contiguous input expected");
        };
        if channels * 9 != self.weights.len() || channels != self.bias.len() {
            candle_core::bail!("depthwise: {channels} channels, weights for another count");
        }
        let input = &all[start..end];
        let stride = self.stride;
        let (out_h, out_w) = (
            Self::output_side(height, stride),
            Self::output_side(width, stride),
        );
        let mut out = vec![0f32; channels * out_h * out_w];
        // One padded input row, reused; columns are gathered with the stride so that the
        // inner loops run over contiguous memory for both strides.
        let padded_w = width + 2;
        let mut taps_row = vec![0f32; out_w];
        for c in 0..channels {
            let plane = &input[c * height * width..(c + 1) * height * width];
            let k = &self.weights[c * 9..c * 9 + 9];
            let out_plane = &mut out[c * out_h * out_w..(c + 1) * out_h * out_w];
            let mut padded = vec![0f32; padded_w];
            for oy in 0..out_h {
                let row = &mut out_plane[oy * out_w..(oy + 1) * out_w];
                row.fill(self.bias[c]);
                for dy in 0..3 {
                    // Input row oy*stride + dy - 1 (padding rows are zeros: skip them).
                    let Some(iy) = (oy * stride + dy).checked_sub(1) else {
                        continue;
                    };
                    if iy >= height {
                        continue;
                    }
                    padded[1..=width].copy_from_slice(&plane[iy * width..(iy + 1) * width]);
                    for dx in 0..3 {
                        let weight = k[dy * 3 + dx];
                        if stride == 1 {
                            let src = &padded[dx..dx + out_w];
                            for (o, s) in row.iter_mut().zip(src) {
                                *o += weight * s;
                            }
                        } else {
                            for (t, x) in taps_row.iter_mut().zip((dx..).step_by(stride)) {
                                *t = padded[x];
                            }
                            for (o, s) in row.iter_mut().zip(&taps_row) {
                                *o += weight * s;
                            }
                        }
                    }
                }
                for o in row.iter_mut() {
                    *o = o.clamp(0.0, 6.0);
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((channels, out_h, out_w))))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;

    /// The same layer with candle's grouped convolution, as the reference.
    fn reference(x: &Tensor, w: &[f32], b: &[f32], stride: usize) -> Tensor {
        let c = b.len();
        let kernel = Tensor::from_slice(w, (c, 1, 3, 3), &Device::Cpu).unwrap();
        let bias = Tensor::from_slice(b, (c, 1, 1), &Device::Cpu).unwrap();
        x.unsqueeze(0)
            .unwrap()
            .conv2d(&kernel, 1, stride, 1, c)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .broadcast_add(&bias)
            .unwrap()
            .clamp(0f32, 6f32)
            .unwrap()
    }

    #[test]
    fn matches_candles_grouped_convolution_for_both_strides_and_odd_sides() {
        for (c, h, w, stride) in [(3, 7, 5, 1), (4, 8, 9, 2), (2, 1, 1, 1), (5, 6, 6, 2)] {
            let n = c * h * w;
            let x: Vec<f32> = (0..n).map(|i| ((i * 37 % 17) as f32 - 8.0) / 3.0).collect();
            let weights: Vec<f32> = (0..c * 9)
                .map(|i| ((i * 11 % 7) as f32 - 3.0) / 4.0)
                .collect();
            let bias: Vec<f32> = (0..c).map(|i| i as f32 / 2.0 - 0.5).collect();
            let x = Tensor::from_vec(x, (c, h, w), &Device::Cpu).unwrap();
            let expected = reference(&x, &weights, &bias, stride);
            let op = Depthwise3x3 {
                weights,
                bias,
                stride,
            };
            let got = x.apply_op1_no_bwd(&op).unwrap();
            assert_eq!(got.dims(), expected.dims(), "{c}x{h}x{w} stride {stride}");
            let diff = (got - expected)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(
                diff < 1e-5,
                "{c}x{h}x{w} stride {stride}: differs by {diff}"
            );
        }
    }
}
