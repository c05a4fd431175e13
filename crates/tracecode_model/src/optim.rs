//! AdamW with its moments kept as named tensors, so a checkpoint stores the
//! optimizer exactly (tch's own optimizer hides its state) and a resumed run
//! continues bit-for-bit; plus per-parameter learning-rate scales (a
//! pretrained encoder moves slower than freshly initialised heads), warm-up +
//! linear-decay schedule and gradient clipping.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use tch::{nn, Tensor};

pub struct AdamW {
    /// Trainable variables by name, sorted for a stable order.
    params: Vec<(String, Tensor)>,
    /// libtorch's optimizer over the same variables, used only for its
    /// `zero_grad`, which drops the gradients (set to None, libtorch's
    /// default) instead of filling them with zeros: backward then writes
    /// fresh gradients rather than adding into zeroed ones, one memory pass
    /// per parameter less, as `torch.optim` does. tch exposes no other way.
    grad_reset: nn::Optimizer,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Multiplier of the step's learning rate, per parameter.
    lr_scales: Vec<f64>,
    pub step: i64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

/// No decay on biases, LayerNorm weights and embeddings of the trace vocabularies.
fn decays(name: &str) -> bool {
    !(name.ends_with(".bias") || name.contains("LayerNorm") || name.contains("_norm"))
}

impl AdamW {
    pub fn new(vs: &nn::VarStore, weight_decay: f64) -> Self {
        let grad_reset = nn::OptimizerConfig::build(nn::Sgd::default(), vs, 0.0)
            .expect("an SGD optimizer over a VarStore's variables");
        let vars: BTreeMap<String, Tensor> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        let params: Vec<(String, Tensor)> = vars.into_iter().collect();
        let m = params
            .iter()
            .map(|(_, p)| p.zeros_like().set_requires_grad(false))
            .collect();
        let v = params
            .iter()
            .map(|(_, p)| p.zeros_like().set_requires_grad(false))
            .collect();
        let lr_scales = vec![1.0; params.len()];
        AdamW {
            params,
            grad_reset,
            m,
            v,
            lr_scales,
            step: 0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        }
    }

    /// Sets each parameter's learning-rate multiplier from its name (the
    /// default is 1); the weight decay scales with it, as with torch's
    /// per-group `lr`.
    pub fn set_lr_scales(&mut self, scale: impl Fn(&str) -> f64) {
        for ((name, _), s) in self.params.iter().zip(&mut self.lr_scales) {
            *s = scale(name);
        }
    }

    /// Drops every parameter's gradient; the next backward starts afresh.
    pub fn zero_grad(&mut self) {
        self.grad_reset.zero_grad();
    }

    /// Scales gradients so their global L2 norm (the norm of all gradients
    /// as one vector, as `torch.nn.utils.clip_grad_norm_`) is at most
    /// `max_norm`; returns the norm before.
    pub fn clip_grad_norm(&self, max_norm: f64) -> f64 {
        tch::no_grad(|| {
            let norms: Vec<Tensor> = self
                .params
                .iter()
                .map(|(_, p)| p.grad())
                .filter(|g| g.defined())
                .map(|g| g.norm())
                .collect();
            if norms.is_empty() {
                return 0.0;
            }
            let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
            if max_norm > 0.0 && total > max_norm {
                let scale = max_norm / (total + 1e-6);
                for (_, p) in &self.params {
                    let mut g = p.grad();
                    if g.defined() {
                        let _ = g.g_mul_scalar_(scale);
                    }
                }
            }
            total
        })
    }

    /// One update at learning rate `lr` times each parameter's scale
    /// (decoupled weight decay).
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        let bc1 = 1.0 - self.beta1.powi(t);
        let bc2 = 1.0 - self.beta2.powi(t);
        tch::no_grad(|| {
            for (i, (name, p)) in self.params.iter_mut().enumerate() {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                // In place, as torch.optim.AdamW's single-tensor path: no
                // full-size temporaries beyond grad² and the denominator.
                let lr = lr * self.lr_scales[i];
                if lr == 0.0 {
                    continue;
                }
                let m = &mut self.m[i];
                let v = &mut self.v[i];
                if self.weight_decay > 0.0 && decays(name) {
                    let _ = p.g_mul_scalar_(1.0 - lr * self.weight_decay);
                }
                let _ = m.lerp_(&g, 1.0 - self.beta1);
                let _ = v.lerp_(&g.square(), 1.0 - self.beta2);
                // p -= lr/bc1 · m / (sqrt(v/bc2) + eps), as one addcdiv with a
                // denominator scaled by -bc1/lr.
                let mut denom = v.sqrt();
                let _ = denom.g_div_scalar_(bc2.sqrt());
                let _ = denom.g_add_scalar_(self.eps);
                let _ = denom.g_mul_scalar_(-bc1 / lr);
                let _ = p.addcdiv_(m, &denom);
            }
        });
    }

    /// Moments and step as safetensors (`m.NAME`, `v.NAME`, `step`).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut named: Vec<(String, Tensor)> = Vec::new();
        for (i, (name, _)) in self.params.iter().enumerate() {
            named.push((format!("m.{name}"), self.m[i].to_device(tch::Device::Cpu)));
            named.push((format!("v.{name}"), self.v[i].to_device(tch::Device::Cpu)));
        }
        named.push(("step".into(), Tensor::from_slice(&[self.step])));
        crate::io::write_safetensors_atomic(&named, path)
    }

    pub fn load(&mut self, path: &Path) -> Result<()> {
        let named: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(path)
            .with_context(|| format!("reading {}", path.display()))?
            .into_iter()
            .collect();
        tch::no_grad(|| -> Result<()> {
            for (i, (name, _)) in self.params.iter().enumerate() {
                for (prefix, slot) in [("m", &mut self.m[i]), ("v", &mut self.v[i])] {
                    let src = named.get(&format!("{prefix}.{name}")).with_context(|| {
                        format!("{} lacks the state of `{name}`", path.display())
                    })?;
                    slot.copy_(src);
                }
            }
            Ok(())
        })?;
        self.step = named
            .get("step")
            .context("optimizer state lacks `step`")?
            .int64_value(&[0]);
        Ok(())
    }
}

/// Linear warm-up to `peak` over `warmup` steps, then linear decay to 0 at `total`.
pub fn learning_rate(step: i64, warmup: i64, total: i64, peak: f64) -> f64 {
    if step < warmup {
        peak * (step + 1) as f64 / warmup as f64
    } else {
        let rest = (total - warmup).max(1) as f64;
        peak * ((total - step) as f64 / rest).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn adamw_minimises_a_quadratic_and_its_state_round_trips() {
        let vs = nn::VarStore::new(Device::Cpu);
        let x = vs.root().var("x", &[3], nn::Init::Const(5.0));
        let mut opt = AdamW::new(&vs, 0.0);
        for _ in 0..300 {
            opt.zero_grad();
            x.square().sum(Kind::Float).backward();
            opt.step(0.05);
        }
        assert!(x.abs().max().double_value(&[]) < 0.1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opt.safetensors");
        opt.save(&path).unwrap();
        let mut other = AdamW::new(&vs, 0.0);
        other.load(&path).unwrap();
        assert_eq!(other.step, 300);
        assert!(other.m[0].allclose(&opt.m[0], 0.0, 0.0, false));
    }

    #[test]
    fn lr_scales_set_each_parameters_step_size() {
        // Adam's first step moves every parameter by lr · sign(grad) (bias-
        // corrected m / sqrt(v) = g / |g|), so the scales show directly.
        let vs = nn::VarStore::new(Device::Cpu);
        let enc = (vs.root() / "encoder").var("w", &[2], nn::Init::Const(5.0));
        let head = (vs.root() / "head").var("w", &[2], nn::Init::Const(5.0));
        let mut opt = AdamW::new(&vs, 0.0);
        opt.set_lr_scales(|name| {
            if name.starts_with("encoder") {
                0.1
            } else {
                1.0
            }
        });
        opt.zero_grad();
        (enc.square().sum(Kind::Float) + head.square().sum(Kind::Float)).backward();
        opt.step(0.5);
        let moved = |t: &Tensor| 5.0 - t.double_value(&[0]);
        assert!((moved(&enc) - 0.05).abs() < 1e-6, "{}", moved(&enc));
        assert!((moved(&head) - 0.5).abs() < 1e-6, "{}", moved(&head));
    }

    #[test]
    fn clipping_uses_the_global_norm_and_zero_grad_drops_gradients() {
        // Gradients 2·x of x = (1.5) and y = (2): 3 and 4, global norm 5.
        let vs = nn::VarStore::new(Device::Cpu);
        let x = vs.root().var("x", &[1], nn::Init::Const(1.5));
        let y = vs.root().var("y", &[1], nn::Init::Const(2.0));
        let mut opt = AdamW::new(&vs, 0.0);
        (x.square().sum(Kind::Float) + y.square().sum(Kind::Float)).backward();
        assert!((opt.clip_grad_norm(1.0) - 5.0).abs() < 1e-6);
        // Scaled to norm 1: (0.6, 0.8).
        assert!((x.grad().double_value(&[0]) - 0.6).abs() < 1e-5);
        assert!((y.grad().double_value(&[0]) - 0.8).abs() < 1e-5);
        opt.zero_grad();
        assert!(!x.grad().defined() && !y.grad().defined());
        assert_eq!(opt.clip_grad_norm(1.0), 0.0);
    }

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        assert_eq!(learning_rate(0, 10, 100, 1.0), 0.1);
        assert_eq!(learning_rate(9, 10, 100, 1.0), 1.0);
        assert!((learning_rate(55, 10, 100, 1.0) - 0.5).abs() < 1e-9);
        assert_eq!(learning_rate(100, 10, 100, 1.0), 0.0);
    }
}
