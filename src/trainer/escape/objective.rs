//! What the replicas descend: a network's loss on a data set, or a quadratic (the validation case
//! whose escape laws are known).

use rand::RngExt;

use super::super::config::{Minibatch, Order, Schedule};
use super::super::data::Dataset;
use super::super::mlp::{Loss, Workspace};
use super::super::model::Model;
use crate::rng;

/// A loss whose full gradient, and optionally minibatch gradients, a replica can take.
pub trait Objective: Sync {
    /// One replica's state: its parameters and whatever scratch its gradients need.
    type State: Send;

    /// The state at θ₀ of replica `replica` (its own minibatch order).
    fn start(&self, replica: u64) -> Self::State;
    /// The parameters of a state.
    fn params<'a>(&self, s: &'a Self::State) -> &'a [f32];
    /// The parameters of a state, to change.
    fn params_mut<'a>(&self, s: &'a mut Self::State) -> &'a mut [f32];
    /// The full-batch loss, with its gradient written into `grad`.
    fn full_gradient(&self, s: &mut Self::State, grad: &mut [f32]) -> f64;
    /// The full-batch loss.
    fn loss(&self, s: &mut Self::State) -> f64;
    /// The gradient of SGD step `step` (its minibatch: the next of the replica's shuffled epochs,
    /// or with `replacement` b examples drawn with replacement from the stream of (replica, step))
    /// into `grad`; false when the objective has no minibatches.
    fn minibatch_gradient(
        &self,
        s: &mut Self::State,
        step: u64,
        replacement: bool,
        grad: &mut [f32],
    ) -> bool;
    /// Parameter ranges of the layers (one range for an objective without layers).
    fn layer_ranges(&self) -> Vec<std::ops::Range<usize>>;
}

/// A network's mean loss over a data set plus the L2 penalty (λ/2)‖θ‖² of its training, from
/// parameters θ₀.
#[derive(Debug)]
pub struct Network<'a> {
    /// The network at θ₀.
    pub net: &'a Model,
    /// The examples (full batch, and the pool SGD draws minibatches from).
    pub data: &'a Dataset,
    /// The loss.
    pub loss: Loss,
    /// Minibatch size of the SGD replicas.
    pub batch_size: usize,
    /// Seed of the replicas' minibatch orders and dropout masks.
    pub seed: u64,
    /// The L2 penalty λ (0: none).
    pub weight_decay: f64,
}

/// A replica of [`Network`].
#[derive(Debug)]
pub struct NetState {
    net: Model,
    ws: Workspace,
    schedule: Schedule,
    replica_seed: u64,
    xb: Vec<f32>,
    yb: Vec<u8>,
    /// The indices of a minibatch drawn with replacement.
    drawn: Vec<usize>,
}

/// The stream domain of minibatches drawn with replacement.
const REPLACEMENT_DOMAIN: u64 = rng::domain::ESCAPE_REPLACEMENT;

impl Objective for Network<'_> {
    type State = NetState;

    fn start(&self, replica: u64) -> NetState {
        let replica_seed =
            rng::mix64(self.seed ^ rng::mix64(replica ^ rng::domain::ESCAPE_REPLICA));
        let b = self.batch_size.clamp(1, self.data.len().max(1));
        NetState {
            net: self.net.clone(),
            ws: Workspace::default(),
            // Each replica visits the examples in its own shuffled order (full minibatches).
            schedule: Schedule::new(Order::Shuffled, self.data.len(), b, replica_seed),
            replica_seed,
            xb: vec![0.0; b * self.data.dim],
            yb: vec![0; b],
            drawn: Vec::with_capacity(b),
        }
    }

    fn params<'s>(&self, s: &'s NetState) -> &'s [f32] {
        s.net.params()
    }

    fn params_mut<'s>(&self, s: &'s mut NetState) -> &'s mut [f32] {
        s.net.params_mut()
    }

    fn full_gradient(&self, s: &mut NetState, grad: &mut [f32]) -> f64 {
        let data = s
            .net
            .loss_grad(&self.data.x, &self.data.y, self.loss, &mut s.ws, grad, None)
            .0;
        data + s.net.add_weight_decay(grad, self.weight_decay)
    }

    fn loss(&self, s: &mut NetState) -> f64 {
        s.net.evaluate(&self.data.x, &self.data.y, self.loss).0
            + s.net.weight_penalty(self.weight_decay)
    }

    fn minibatch_gradient(
        &self,
        s: &mut NetState,
        step: u64,
        replacement: bool,
        grad: &mut [f32],
    ) -> bool {
        let d = self.data;
        let NetState {
            net,
            ws,
            schedule,
            replica_seed,
            xb,
            yb,
            drawn,
        } = s;
        let batch = if replacement {
            let mut r = rng::aux_stream(*replica_seed, REPLACEMENT_DOMAIN, step);
            drawn.clear();
            drawn.extend((0..yb.len()).map(|_| r.random_range(0..d.len())));
            Minibatch::Indices(drawn)
        } else {
            schedule.next_batch()
        };
        let (bx, by) = super::super::config::gather(batch, d, xb, yb);
        // Dropout (AlexNet) as in training, its masks from (replica, step).
        net.loss_grad(bx, by, self.loss, ws, grad, Some((*replica_seed, step)));
        net.add_weight_decay(grad, self.weight_decay);
        true
    }

    fn layer_ranges(&self) -> Vec<std::ops::Range<usize>> {
        self.net.layer_ranges()
    }
}

/// f(θ) = ½ Σⱼ λⱼ θⱼ² + Σⱼ gⱼθⱼ from θ₀ = 0: the local model of a minimum, where the escape laws
/// of [`crate::theory::escape`] are exact or asymptotically exact.
#[derive(Clone, Debug, PartialEq)]
pub struct Quadratic {
    /// Curvatures λⱼ.
    pub curvatures: Vec<f64>,
    /// Linear term gⱼ (the gradient at θ₀).
    pub gradient: Vec<f64>,
}

impl Objective for Quadratic {
    type State = Vec<f32>;

    fn start(&self, _replica: u64) -> Vec<f32> {
        vec![0.0; self.curvatures.len()]
    }
    fn params<'s>(&self, s: &'s Vec<f32>) -> &'s [f32] {
        s
    }
    fn params_mut<'s>(&self, s: &'s mut Vec<f32>) -> &'s mut [f32] {
        s
    }
    fn full_gradient(&self, s: &mut Vec<f32>, grad: &mut [f32]) -> f64 {
        let mut f = 0.0;
        for (((o, &x), &l), &g) in grad
            .iter_mut()
            .zip(s.iter())
            .zip(&self.curvatures)
            .zip(&self.gradient)
        {
            let x = f64::from(x);
            *o = (l * x + g) as f32;
            f += 0.5 * l * x * x + g * x;
        }
        f
    }
    fn loss(&self, s: &mut Vec<f32>) -> f64 {
        let mut g = vec![0.0; s.len()];
        self.full_gradient(s, &mut g)
    }
    fn minibatch_gradient(
        &self,
        _s: &mut Vec<f32>,
        _step: u64,
        _replacement: bool,
        _grad: &mut [f32],
    ) -> bool {
        false
    }
    fn layer_ranges(&self) -> Vec<std::ops::Range<usize>> {
        std::iter::once(0..self.curvatures.len()).collect()
    }
}
