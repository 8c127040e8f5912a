// scoresde: score-based generative modelling through SDEs (umbrella header of the core).
// Solvers are separate: include <sde/solvers/registry.hpp> or a solver's own header.
#pragma once

#include "sde/atomic_file.hpp"
#include "sde/errors.hpp"
#include "sde/forward_sde.hpp"
#include "sde/gaussian_mixture.hpp"
#include "sde/losses.hpp"
#include "sde/parameterized_score.hpp"
#include "sde/metrics.hpp"
#include "sde/npy.hpp"
#include "sde/ode_integrator.hpp"
#include "sde/random.hpp"
#include "sde/reverse_sde.hpp"
#include "sde/sampler.hpp"
#include "sde/score_model.hpp"
#include "sde/time_grid.hpp"
#include "sde/toy_data.hpp"
#include "sde/sde_factory.hpp"
#include "sde/ve_sde.hpp"
#include "sde/vp_sde.hpp"
