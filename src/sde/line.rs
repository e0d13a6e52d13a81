//! A 1-D landscape in vector lanes: U′, U″ and the exact drift flow as plain coefficients.
//!
//! Both kernels use it: the 1-D kernel ([`super::lanes`]) for its one coordinate, and the
//! d-dimensional kernel ([`super::space`]) for each axis of a separable surface. The drift flow is
//! its own type, built only for the landscapes that have one, so that a scheme needing it cannot
//! run without it (there is no fallback arm that would silently drop the drift).

use crate::landscape::Landscape;
use crate::simd::Lanes;
use crate::simd::math::{abs, sign};

#[inline(always)]
fn c<V: Lanes>(v: f64) -> V {
    V::splat(v)
}

/// U′ and U″ of a 1-D landscape as coefficients.
#[derive(Clone, Debug, PartialEq)]
enum Derivatives {
    Quartic {
        k: f64,
        w2: f64,
    },
    Tilted {
        k: f64,
        w2: f64,
        f: f64,
    },
    Asymmetric {
        k: f64,
        a: f64,
        b: f64,
    },
    Piecewise {
        w: f64,
        km: f64,
        ks: f64,
        g: f64,
        x1: f64,
        x2: f64,
    },
    Polynomial {
        d1: Vec<f64>,
        d2: Vec<f64>,
    },
    Quadratic {
        k: f64,
        m: f64,
    },
    Flat,
}

/// The exact flow of ẋ = −U′(x) over a fixed time h, where one exists.
#[derive(Clone, Debug, PartialEq)]
enum Flow {
    /// φ_h(x) = x/√(y²(1 − E) + E), y = x/w, E = e^{−2kw²h}; `far` = w/√(1 − E).
    Quartic { inv_w: f64, e: f64, far: f64 },
    /// φ_h(x) = m + (x − m)e^{−κh}.
    Quadratic { m: f64, e: f64 },
    /// U ≡ 0: φ_h(x) = x.
    Identity,
}

/// A 1-D landscape ready for the lanes, with its flow over `h` when it has one.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct LineDrift {
    derivatives: Derivatives,
    flow: Option<Flow>,
}

impl LineDrift {
    /// The coefficients of `u`, with the flow over time `h` (half a step for Strang splitting).
    pub(super) fn new(u: &Landscape, h: f64) -> LineDrift {
        let (derivatives, flow) = match u {
            Landscape::Quartic(q) => {
                let (k, w) = q.coefficients();
                let e = (-2.0 * (k * w * w * h)).exp();
                (
                    Derivatives::Quartic { k, w2: w * w },
                    Some(Flow::Quartic {
                        inv_w: 1.0 / w,
                        e,
                        far: w / (1.0 - e).sqrt(),
                    }),
                )
            }
            Landscape::Tilted(t) => {
                let (k, w, f) = t.coefficients();
                (Derivatives::Tilted { k, w2: w * w, f }, None)
            }
            Landscape::Asymmetric(a) => {
                let (k, a, b) = a.coefficients();
                (Derivatives::Asymmetric { k, a, b }, None)
            }
            Landscape::PiecewiseQuadratic(p) => {
                let [w, km, ks, g, x1, x2] = p.coefficients();
                (
                    Derivatives::Piecewise {
                        w,
                        km,
                        ks,
                        g,
                        x1,
                        x2,
                    },
                    None,
                )
            }
            Landscape::Polynomial(p) => {
                let (d1, d2) = p.derivative_coefficients();
                (
                    Derivatives::Polynomial {
                        d1: d1.to_vec(),
                        d2: d2.to_vec(),
                    },
                    None,
                )
            }
            Landscape::Quadratic(q) => {
                let (k, m) = q.coefficients();
                (
                    Derivatives::Quadratic { k, m },
                    Some(Flow::Quadratic {
                        m,
                        e: (-k * h).exp(),
                    }),
                )
            }
            Landscape::Flat(_) => (Derivatives::Flat, Some(Flow::Identity)),
        };
        LineDrift { derivatives, flow }
    }

    /// Whether the exact drift flow exists (the split scheme needs it).
    #[cfg(test)]
    pub(super) fn has_flow(&self) -> bool {
        self.flow.is_some()
    }

    /// U′(x).
    #[inline(always)]
    pub(super) fn grad<V: Lanes>(&self, x: V) -> V {
        match &self.derivatives {
            Derivatives::Quartic { k, w2 } => c::<V>(*k).mul(x).mul(x.mul(x).sub(c(*w2))),
            Derivatives::Tilted { k, w2, f } => {
                c::<V>(*k).mul(x).mul(x.mul(x).sub(c(*w2))).sub(c(*f))
            }
            Derivatives::Asymmetric { k, a, b } => {
                c::<V>(*k).mul(x).mul(x.add(c(*a))).mul(x.sub(c(*b)))
            }
            Derivatives::Piecewise {
                w,
                km,
                ks,
                g,
                x1,
                x2,
            } => {
                let y = abs(x);
                let inner = c::<V>(-*ks).mul(y);
                let outer = c::<V>(*km).mul(y.sub(c(*w)));
                let d = V::select(y.le(c(*x2)), c(-*g), outer);
                let d = V::select(y.le(c(*x1)), inner, d);
                d.mul(sign(x))
            }
            Derivatives::Polynomial { d1, .. } => horner(d1, x),
            Derivatives::Quadratic { k, m } => c::<V>(*k).mul(x.sub(c(*m))),
            Derivatives::Flat => c(0.0),
        }
    }

    /// U″(x).
    #[inline(always)]
    pub(super) fn hess<V: Lanes>(&self, x: V) -> V {
        match &self.derivatives {
            Derivatives::Quartic { k, w2 } | Derivatives::Tilted { k, w2, .. } => {
                c::<V>(*k).mul(c::<V>(3.0).mul(x).mul(x).sub(c(*w2)))
            }
            Derivatives::Asymmetric { k, a, b } => c::<V>(*k).mul(
                c::<V>(3.0)
                    .mul(x)
                    .mul(x)
                    .add(c::<V>(2.0 * (a - b)).mul(x))
                    .sub(c(a * b)),
            ),
            Derivatives::Piecewise { km, ks, x1, x2, .. } => {
                let y = abs(x);
                let d = V::select(y.le(c(*x2)), c(0.0), c(*km));
                V::select(y.le(c(*x1)), c(-*ks), d)
            }
            Derivatives::Polynomial { d2, .. } => horner(d2, x),
            Derivatives::Quadratic { k, .. } => c(*k),
            Derivatives::Flat => c(0.0),
        }
    }

    /// The exact drift flow over h. Only called when [`Self::has_flow`] (checked when a
    /// simulation is built); without a flow the result is NaN, so a misuse ends the path as
    /// non-finite instead of silently dropping the drift.
    #[inline(always)]
    pub(super) fn flow<V: Lanes>(&self, x: V) -> V {
        match &self.flow {
            Some(Flow::Quartic { inv_w, e, far }) => {
                // φ = w·sign(y)/√(1 + (y⁻² − 1)E) written as x/√(y²(1 − E) + E) (one division,
                // finite at x = 0); for |y| > 10¹⁵⁰ (y² would overflow) its limit w·sign(y)/√(1 − E).
                let y = x.mul(c(*inv_w));
                let e = c::<V>(*e);
                let denom = y.mul(y).mul_add(c::<V>(1.0).sub(e), e);
                let phi = x.div(denom.sqrt());
                V::select(abs(y).lt(c(1e150)), phi, c::<V>(*far).mul(sign(y)))
            }
            Some(Flow::Quadratic { m, e }) => x.sub(c(*m)).mul(c(*e)).add(c(*m)),
            Some(Flow::Identity) => x,
            None => c(f64::NAN),
        }
    }
}

/// Σ c_k x^k by Horner's rule.
#[inline(always)]
fn horner<V: Lanes>(coef: &[f64], x: V) -> V {
    coef.iter()
        .rev()
        .fold(c::<V>(0.0), |acc, &v| acc.mul(x).add(c(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{
        Asymmetric, Flat, PiecewiseQuadratic, Polynomial, Potential, Quadratic, Quartic,
        TiltedQuartic,
    };
    use crate::simd::Scalar;
    use proptest::prelude::*;

    fn every_landscape() -> Vec<Landscape> {
        vec![
            Landscape::Quartic(Quartic::new(1.3, 0.4).unwrap()),
            Landscape::Tilted(TiltedQuartic::new(1.0, 0.25, 0.05).unwrap()),
            Landscape::Asymmetric(Asymmetric::new(1.0, 0.7, 1.4).unwrap()),
            Landscape::PiecewiseQuadratic(PiecewiseQuadratic::new(1.0, 0.3, 2.0, 1.5).unwrap()),
            Landscape::Polynomial(Polynomial::new(vec![0.1, 0.3, -0.5, 0.02, 0.25]).unwrap()),
            Landscape::Quadratic(Quadratic::new(0.4, 2.5).unwrap()),
            Landscape::Flat(Flat),
        ]
    }

    proptest! {
        /// The lanes' U′, U″ and flow are the landscape's own (the scalar reference), for every
        /// kind: the kernel cannot drift away from the landscape it claims to integrate.
        #[test]
        fn lanes_agree_with_the_landscape(x in -4.0f64..4.0, h in 1e-4f64..0.5) {
            for u in every_landscape() {
                let l = LineDrift::new(&u, h);
                let g = l.grad(Scalar(x)).0;
                prop_assert!((g - u.grad(x)).abs() <= 1e-12 * (1.0 + u.grad(x).abs()), "{u:?} U′");
                let k = l.hess(Scalar(x)).0;
                prop_assert!((k - u.hess(x)).abs() <= 1e-12 * (1.0 + u.hess(x).abs()), "{u:?} U″");
                match u.drift_flow(x, h) {
                    Some(phi) => {
                        prop_assert!(l.has_flow());
                        let f = l.flow(Scalar(x)).0;
                        prop_assert!((f - phi).abs() <= 1e-12 * (1.0 + phi.abs()), "{u:?} flow {f} vs {phi}");
                    }
                    None => {
                        prop_assert!(!l.has_flow(), "{u:?}");
                        prop_assert!(l.flow(Scalar(x)).0.is_nan());
                    }
                }
            }
        }
    }
}
