// RePaint (Lugmayr et al. 2022): inpainting by replacement with resampling. Replacement alone
// (sde/core/inverse_problems.hpp) lets the unknown part see the known one only through the noised
// copies it is reset to, which pulls the result towards the prior where the two are correlated.
// RePaint solves the grid in segments of `jump_length` steps and, before moving on, jumps back
// over each segment by the forward process and solves it again, `resamplings` times: every pass
// lets the free part adapt to the known one a little more (the bias shrinks with the passes; see
// docs/guidance.md for measurements).
#pragma once

#include <cstdint>
#include <string>

#include "sde/core/inverse_problems.hpp"
#include "sde/core/sampler.hpp"

namespace sde {

struct RePaintOptions {
  int64_t jump_length = 10;  ///< j: grid steps per segment (RePaint's default 10)
  int64_t resamplings = 10;  ///< r: passes over each segment (1 = plain replacement; RePaint's default 10)
  void validate() const;
};

/// Samples request.count solutions of the inverse problem with `sampler` (a fixed-grid solver) on
/// the request's grid: each segment [t_a, t_b] of the grid is solved from t_a through the grid's own
/// times (a slice of it), with replacement after every step, then, while passes remain, taken back
/// to t_a by the exact forward transition x_a = (alpha_a / alpha_b) x_b + sqrt(sigma_a^2 - (alpha_a / alpha_b)^2 sigma_b^2) z
/// and solved again. The solver's randomness is re-keyed per segment and pass from request.seed, so
/// sample i still depends on (seed, i) only. NFE and steps add up over the passes. Multistep solvers
/// restart their history at each segment. The request's observer, start (latents or start state)
/// and transform are kept; RePaint's replacement follows its transform.
SampleResult repaint(const Sampler& sampler, const Sde& sde, const ScoreModel& model, const SampleRequest& request,
                     const Measurement& measurement, const RePaintOptions& repaint);

}  // namespace sde
