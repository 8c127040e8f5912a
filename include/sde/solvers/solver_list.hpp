// Every registered solver, one line each, in the order `scoresde solvers` lists them: the function
// (defined in the solver's own source) that returns its SolverEntry. Included by registry.cpp only.
// An explicit list rather than self-registration from static initialisers, because a static
// library drops the object files that nothing references.
SCORESDE_SOLVER(euler_maruyama_solver)
SCORESDE_SOLVER(reverse_diffusion_solver)
SCORESDE_SOLVER(ancestral_solver)
SCORESDE_SOLVER(predictor_corrector_solver)
SCORESDE_SOLVER(ddim_solver)
SCORESDE_SOLVER(heun_solver)
SCORESDE_SOLVER(dpmpp_2m_solver)
SCORESDE_SOLVER(dpmpp_3m_solver)
SCORESDE_SOLVER(dpmpp_2s_solver)
SCORESDE_SOLVER(dpm_adaptive_solver)
SCORESDE_SOLVER(sde_adaptive_solver)
SCORESDE_SOLVER(dopri5_solver)
SCORESDE_SOLVER(cash_karp_solver)
SCORESDE_SOLVER(rk4_solver)
