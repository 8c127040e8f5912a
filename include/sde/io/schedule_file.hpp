// Schedules and time grids from files (the io library: it reads .npy).
#pragma once

#include <string>
#include <vector>

#include "sde/core/custom_sde.hpp"

namespace sde {

/// A JSON file {"alphas_cumprod": [...]} or {"betas": [...]}, or a 1-D .npy of the kind named by
/// `npy_values` ("alphas_cumprod" or "betas"; diffusers' scheduler keeps both). Throws
/// sde::FileError / InvalidArgument naming the file and what is wrong.
DiscreteSchedule load_discrete_schedule(const std::string& path, const std::string& npy_values = "alphas_cumprod");

/// An explicit time grid's values (times or sigmas, decreasing) from `spec`: a comma-separated list
/// ("1,0.5,0.001"), a 1-D .npy, or a .json file holding a list or an object with the list under
/// `key` ("times" or "sigmas"; a sample run's summary records its "times"). Throws
/// sde::InvalidArgument / FileError naming the value or the file; TimeGrid checks the values.
std::vector<double> load_grid_values(const std::string& spec, const std::string& key);

}  // namespace sde
