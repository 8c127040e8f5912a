// scoresde: score-based generative modelling through SDEs. The umbrella header of the public API:
// what programs call — the core, io, nn, and the solvers' front (the registry, likelihoods,
// encoding/decoding along the flow, RePaint, sharded sampling). The API for adding a solver
// (sde/solve/registration.hpp, sde/solve/stepper.hpp and the controllers) is included on its own.
#pragma once

#include "sde/core/atomic_file.hpp"
#include "sde/core/bounded_prediction.hpp"
#include "sde/core/checksum.hpp"
#include "sde/core/condition.hpp"
#include "sde/core/cosine_sde.hpp"
#include "sde/core/custom_sde.hpp"
#include "sde/core/edm_sde.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/flow_sde.hpp"
#include "sde/core/forward_sde.hpp"
#include "sde/core/forwarding_score_model.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/guidance.hpp"
#include "sde/core/inverse_problems.hpp"
#include "sde/core/metrics.hpp"
#include "sde/core/mixture_suite.hpp"
#include "sde/core/parameterized_score.hpp"
#include "sde/core/random.hpp"
#include "sde/core/reverse_sde.hpp"
#include "sde/core/sampler.hpp"
#include "sde/core/score_model.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/core/solve_hooks.hpp"
#include "sde/core/time_grid.hpp"
#include "sde/core/torchscript_model.hpp"
#include "sde/core/toy_data.hpp"
#include "sde/core/ve_sde.hpp"
#include "sde/core/vp_sde.hpp"

#include "sde/io/idx.hpp"
#include "sde/io/image.hpp"
#include "sde/io/npy.hpp"
#include "sde/io/plots.hpp"
#include "sde/io/schedule_file.hpp"

#include "sde/distributed/process_group.hpp"

#include "sde/nn/losses.hpp"
#include "sde/nn/networks.hpp"
#include "sde/nn/trained_model.hpp"
#include "sde/nn/training.hpp"

#include "sde/solve/distributed_likelihood.hpp"
#include "sde/solve/distributed_sampling.hpp"
#include "sde/solve/likelihood.hpp"
#include "sde/solve/probability_flow.hpp"
#include "sde/solve/registry.hpp"
#include "sde/solve/repaint.hpp"
