// Discrete schedules from files (the io library: it reads .npy).
#pragma once

#include <string>

#include "sde/custom_sde.hpp"

namespace sde {

/// A JSON file {"alphas_cumprod": [...]} or {"betas": [...]}, or a 1-D .npy of the kind named by
/// `npy_values` ("alphas_cumprod" or "betas"; diffusers' scheduler keeps both). Throws
/// sde::FileError / InvalidArgument naming the file and what is wrong.
DiscreteSchedule load_discrete_schedule(const std::string& path, const std::string& npy_values = "alphas_cumprod");

}  // namespace sde
