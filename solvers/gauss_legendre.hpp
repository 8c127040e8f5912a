// Gauss–Legendre quadrature on an interval (private to the solvers): the exponential integrators
// with a polynomial history (DEIS, SA-Solver) integrate weight x Lagrange basis numerically, as
// DEIS does; 16 nodes integrate these smooth integrands to double precision.
#pragma once

#include <cmath>
#include <vector>

namespace sde::detail {

/// n nodes and weights on [-1, 1]: the roots of P_n by Newton's method from the usual starting
/// points (a few iterations reach double precision).
struct GaussLegendre {
  std::vector<double> nodes, weights;
  explicit GaussLegendre(int n) {
    for (int i = 0; i < n; ++i) {
      double x = std::cos(M_PI * (i + 0.75) / (n + 0.5)), derivative = 1;
      for (int iteration = 0; iteration < 100; ++iteration) {
        double p0 = 1, p1 = x;  // P_0, P_1, then up to P_n by Bonnet's recursion
        for (int m = 2; m <= n; ++m) {
          const double p2 = ((2 * m - 1) * x * p1 - (m - 1) * p0) / m;
          p0 = p1, p1 = p2;
        }
        derivative = n * (x * p1 - p0) / (x * x - 1);
        const double dx = p1 / derivative;
        x -= dx;
        if (std::abs(dx) < 1e-16) break;
      }
      nodes.push_back(x);
      weights.push_back(2.0 / ((1 - x * x) * derivative * derivative));
    }
  }
  /// The 16-node rule, made once.
  static const GaussLegendre& sixteen() {
    static const GaussLegendre rule(16);
    return rule;
  }
};

/// int_a^b f(u) du by the 16-node rule.
template <class F>
double integrate(double a, double b, const F& f) {
  const GaussLegendre& rule = GaussLegendre::sixteen();
  const double mid = 0.5 * (a + b), half = 0.5 * (b - a);
  double sum = 0;
  for (size_t n = 0; n < rule.nodes.size(); ++n) sum += rule.weights[n] * f(mid + half * rule.nodes[n]);
  return sum * half;
}

/// The j-th Lagrange basis polynomial of `points` at u: 1 at points[j], 0 at the others.
inline double lagrange_basis(const std::vector<double>& points, size_t j, double u) {
  double basis = 1.0;
  for (size_t m = 0; m < points.size(); ++m)
    if (m != j) basis *= (u - points[m]) / (points[j] - points[m]);
  return basis;
}

}  // namespace sde::detail
